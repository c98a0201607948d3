package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/postgres/db"
)

// Families keeps what a family tells the platform: children, demographics, email preferences.
type Families struct {
	Pool *pgxpool.Pool
}

var errNoChild = apperr.New(apperr.NotFound, "no such child")

func pgDate(d accounts.Date) pgtype.Date { return pgtype.Date{Time: d.Time(), Valid: true} }

func childOf(uuid string, birthday pgtype.Date, r db.ListChildrenRow) accounts.Child {
	return accounts.Child{
		UUID: uuid, GivenName: r.GivenName, Birthday: accounts.DateOf(birthday.Time), Gender: r.Gender,
		GenderSelfDescribe: r.GenderSelfDescribe, GestationalAge: r.GestationalAgeAtBirth,
		AdditionalInformation: r.AdditionalInformation, Conditions: accounts.Conditions(r.ExistingConditions),
		Languages: accounts.Languages(r.LanguagesSpoken), Deleted: r.Deleted,
	}
}

// ListChildren returns the family's children, youngest first (as Lookit orders them).
func (f *Families) ListChildren(ctx context.Context, userID int64) ([]accounts.Child, error) {
	rows, err := db.New(f.Pool).ListChildren(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: list children: %w", err)
	}
	out := make([]accounts.Child, 0, len(rows))
	for _, r := range rows {
		out = append(out, childOf(r.Uuid, r.Birthday, r))
	}
	return out, nil
}

// FindChild returns a child and the id of the family it belongs to.
func (f *Families) FindChild(ctx context.Context, childUUID string) (int64, accounts.Child, error) {
	if _, err := uuid.Parse(childUUID); err != nil {
		return 0, accounts.Child{}, errNoChild
	}
	r, err := db.New(f.Pool).FindChild(ctx, childUUID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, accounts.Child{}, errNoChild
	}
	if err != nil {
		return 0, accounts.Child{}, fmt.Errorf("postgres: find child: %w", err)
	}
	return r.UserID, childOf(r.Uuid, r.Birthday, db.ListChildrenRow{GivenName: r.GivenName, Gender: r.Gender,
		GenderSelfDescribe: r.GenderSelfDescribe, GestationalAgeAtBirth: r.GestationalAgeAtBirth,
		AdditionalInformation: r.AdditionalInformation, ExistingConditions: r.ExistingConditions,
		LanguagesSpoken: r.LanguagesSpoken, Deleted: r.Deleted}), nil
}

// CreateChild adds a child to the family.
func (f *Families) CreateChild(ctx context.Context, userID int64, in accounts.ChildInput, today accounts.Date) (accounts.Child, error) {
	c, err := in.Child(today)
	if err != nil {
		return accounts.Child{}, err
	}
	c.UUID = uuid.NewString()
	err = db.New(f.Pool).CreateChild(ctx, db.CreateChildParams{
		Uuid: c.UUID, UserID: userID, GivenName: c.GivenName, Birthday: pgDate(c.Birthday), Gender: c.Gender,
		GenderSelfDescribe: c.GenderSelfDescribe, GestationalAgeAtBirth: c.GestationalAge,
		AdditionalInformation: c.AdditionalInformation, ExistingConditions: int64(c.Conditions), LanguagesSpoken: int64(c.Languages),
	})
	if err != nil {
		return accounts.Child{}, fmt.Errorf("postgres: create child: %w", err)
	}
	return c, nil
}

// UpdateChild changes a child of the family (never its birthday, as Lookit).
func (f *Families) UpdateChild(ctx context.Context, userID int64, childUUID string, in accounts.ChildInput, today accounts.Date) (accounts.Child, error) {
	owner, c, err := f.FindChild(ctx, childUUID)
	if err != nil {
		return accounts.Child{}, err
	}
	if owner != userID {
		return accounts.Child{}, errNoChild
	}
	c, err = c.Update(in, today)
	if err != nil {
		return accounts.Child{}, err
	}
	n, err := db.New(f.Pool).UpdateChild(ctx, db.UpdateChildParams{
		Uuid: childUUID, UserID: userID, GivenName: c.GivenName, Gender: c.Gender, GenderSelfDescribe: c.GenderSelfDescribe,
		GestationalAgeAtBirth: c.GestationalAge, AdditionalInformation: c.AdditionalInformation,
		ExistingConditions: int64(c.Conditions), LanguagesSpoken: int64(c.Languages),
	})
	if err != nil {
		return accounts.Child{}, fmt.Errorf("postgres: update child: %w", err)
	}
	if n == 0 {
		return accounts.Child{}, errNoChild
	}
	return c, nil
}

// DeleteChild removes a child from the family's list (soft delete: past responses keep it).
func (f *Families) DeleteChild(ctx context.Context, userID int64, childUUID string) error {
	if _, err := uuid.Parse(childUUID); err != nil {
		return errNoChild
	}
	n, err := db.New(f.Pool).DeleteChild(ctx, db.DeleteChildParams{Uuid: childUUID, UserID: userID})
	if err != nil {
		return fmt.Errorf("postgres: delete child: %w", err)
	}
	if n == 0 {
		return errNoChild
	}
	return nil
}

// LatestDemographics returns the family's newest demographics, or ok=false.
func (f *Families) LatestDemographics(ctx context.Context, userID int64) (accounts.Demographics, bool, error) {
	r, err := db.New(f.Pool).LatestDemographics(ctx, &userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return accounts.Demographics{}, false, nil
	}
	if err != nil {
		return accounts.Demographics{}, false, fmt.Errorf("postgres: demographics: %w", err)
	}
	d := accounts.Demographics{
		UUID: r.Uuid, NumberOfChildren: r.NumberOfChildren, NumberOfGuardians: r.NumberOfGuardians,
		NumberOfGuardiansExplanation: r.NumberOfGuardiansExplanation, USRaceEthnicityIdentification: r.UsRaceEthnicityIdentification,
		USRaceEthnicityIdentificationDescribe: r.UsRaceEthnicityIdentificationDescribe, Age: r.Age, Gender: r.Gender,
		GenderSelfDescribe: r.GenderSelfDescribe, EducationLevel: r.EducationLevel, AnnualIncome: r.AnnualIncome,
		Country: r.Country, State: r.State, Density: r.Density, LookitReferrer: r.LookitReferrer,
		AdditionalComments: r.AdditionalComments, Extra: json.RawMessage(r.Extra), CreatedAt: r.CreatedAt.Time,
	}
	for _, b := range r.ChildBirthdays {
		d.ChildBirthdays = append(d.ChildBirthdays, accounts.DateOf(b.Time))
	}
	return d, true, nil
}

// AddDemographics saves a new version of the family's demographics.
func (f *Families) AddDemographics(ctx context.Context, userID int64, in accounts.DemographicsInput, today accounts.Date) (accounts.Demographics, error) {
	d, err := in.Demographics(today)
	if err != nil {
		return accounts.Demographics{}, err
	}
	births := make([]pgtype.Date, 0, len(d.ChildBirthdays))
	for _, b := range d.ChildBirthdays {
		births = append(births, pgDate(b))
	}
	races := d.USRaceEthnicityIdentification
	if races == nil {
		races = []string{}
	}
	row, err := db.New(f.Pool).AddDemographics(ctx, db.AddDemographicsParams{
		UserID: &userID, NumberOfChildren: d.NumberOfChildren, ChildBirthdays: births, NumberOfGuardians: d.NumberOfGuardians,
		NumberOfGuardiansExplanation: d.NumberOfGuardiansExplanation, UsRaceEthnicityIdentification: races,
		UsRaceEthnicityIdentificationDescribe: d.USRaceEthnicityIdentificationDescribe, Age: d.Age, Gender: d.Gender,
		GenderSelfDescribe: d.GenderSelfDescribe, EducationLevel: d.EducationLevel, AnnualIncome: d.AnnualIncome,
		Country: d.Country, State: d.State, Density: d.Density, LookitReferrer: d.LookitReferrer,
		AdditionalComments: d.AdditionalComments, Extra: []byte(d.Extra),
	})
	if err != nil {
		return accounts.Demographics{}, fmt.Errorf("postgres: add demographics: %w", err)
	}
	d.UUID, d.CreatedAt = row.Uuid, row.CreatedAt.Time
	return d, nil
}

// SetEmailPreferences stores the family's four email flags.
func (f *Families) SetEmailPreferences(ctx context.Context, userID int64, p accounts.EmailPreferences) error {
	err := db.New(f.Pool).SetEmailPreferences(ctx, db.SetEmailPreferencesParams{ID: userID, EmailNextSession: p.NextSession,
		EmailNewStudies: p.NewStudies, EmailStudyUpdates: p.StudyUpdates, EmailResponseQuestions: p.ResponseQuestions})
	if err != nil {
		return fmt.Errorf("postgres: email preferences: %w", err)
	}
	return nil
}

// UnsubscribeAll turns off every optional email of the user with the given UUID; ok=false when
// there is no such user.
func (f *Families) UnsubscribeAll(ctx context.Context, userUUID uuid.UUID) (bool, error) {
	n, err := db.New(f.Pool).UnsubscribeAll(ctx, userUUID.String())
	if err != nil {
		return false, fmt.Errorf("postgres: unsubscribe: %w", err)
	}
	return n > 0, nil
}

// Today is the civil date in UTC, the day Lookit's age rules count in.
func Today() accounts.Date { return accounts.DateOf(time.Now().UTC()) }
