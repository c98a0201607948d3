// Package demo seeds the local stack with people to try the platform as: a site admin, a
// researcher in an approved lab, and a parent with one child and demographics. Seeding is
// idempotent: running it again changes nothing that exists.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres"
	"lookit.dev/platform/shared/postgres/db"
)

// Demo accounts.
const (
	AdminEmail      = "admin@example.org"
	ResearcherEmail = "researcher@example.org"
	ParentEmail     = "parent@example.org"
	LabName         = "Demo Lab"
)

// Seed creates the demo data that does not exist yet. password is DEMO_PASSWORD; totpSecret is
// DEMO_TOTP_SECRET, the researcher's activated TOTP secret.
func Seed(ctx context.Context, pool *pgxpool.Pool, password, totpSecret string) error {
	if password == "" {
		return errors.New("demo: DEMO_PASSWORD is required to seed demo users")
	}
	hash, err := passwords.Hash(password, passwords.Default)
	if err != nil {
		return err
	}
	birthday := pgtype.Date{Time: time.Now().UTC().AddDate(0, -14, 0).Truncate(24 * time.Hour), Valid: true}
	return postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		adminID, err := q.SeedUser(ctx, db.SeedUserParams{Email: AdminEmail, PasswordHash: hash,
			GivenName: "Ada", FamilyName: "Admin", IsResearcher: true, IsSiteAdmin: true})
		if err != nil {
			return fmt.Errorf("demo admin: %w", err)
		}
		researcherID, err := q.SeedUser(ctx, db.SeedUserParams{Email: ResearcherEmail, PasswordHash: hash,
			GivenName: "Rosa", FamilyName: "Researcher", IsResearcher: true})
		if err != nil {
			return fmt.Errorf("demo researcher: %w", err)
		}
		parentID, err := q.SeedUser(ctx, db.SeedUserParams{Email: ParentEmail, PasswordHash: hash,
			GivenName: "Pat", FamilyName: "Parent"})
		if err != nil {
			return fmt.Errorf("demo parent: %w", err)
		}
		if totpSecret != "" {
			for _, id := range []int64{adminID, researcherID} {
				if err := q.SeedTOTP(ctx, db.SeedTOTPParams{UserID: id, Secret: totpSecret}); err != nil {
					return fmt.Errorf("demo totp: %w", err)
				}
			}
		}
		labID, err := q.SeedLab(ctx, db.SeedLabParams{Name: LabName, Slug: &labSlug, Institution: "Example University",
			PrincipalInvestigatorName: "Rosa Researcher", ContactEmail: ResearcherEmail, Description: "A lab to try the platform with."})
		if err != nil {
			return fmt.Errorf("demo lab: %w", err)
		}
		if err := q.SeedLabMember(ctx, db.SeedLabMemberParams{LabID: labID, UserID: researcherID, Role: "admin"}); err != nil {
			return fmt.Errorf("demo lab member: %w", err)
		}
		weeks := int16(16) // 39 weeks on Lookit's scale
		if err := q.SeedChild(ctx, db.SeedChildParams{UserID: parentID, GivenName: "Sam", Birthday: birthday,
			Gender: "f", GestationalAgeAtBirth: &weeks, LanguagesSpoken: 1}); err != nil {
			return fmt.Errorf("demo child: %w", err)
		}
		if err := seedStudies(ctx, q, labID, researcherID); err != nil {
			return err
		}
		if err := q.SeedDemographics(ctx, db.SeedDemographicsParams{UserID: &parentID, NumberOfChildren: "1",
			ChildBirthdays: []pgtype.Date{birthday}, NumberOfGuardians: "2", UsRaceEthnicityIdentification: []string{"white"},
			Age: "30-34", Gender: "f", EducationLevel: "grad", AnnualIncome: "90000", Country: "US", State: "MA",
			Density: "urban", LookitReferrer: "A friend"}); err != nil {
			return fmt.Errorf("demo demographics: %w", err)
		}
		return nil
	})
}

var labSlug = "demo-lab"

// frameplayerProtocol is a camera-free protocol the real experiment runner completes: survey
// consent, a text frame, the exit survey.
//
//go:embed frameplayer-protocol.json
var frameplayerProtocol []byte

// PlayerRepo is the experiment runner repository of the demo study. No commit is pinned: as in
// Lookit, the first build resolves the branch head and stores its SHA; until then the study is not
// built. UseRunner pins a prebuilt one instead.
const PlayerRepo = "https://github.com/lookit/ember-lookit-frameplayer"

// FrameplayerStudy is the name of the demo frameplayer study.
const FrameplayerStudy = "Demo frameplayer study"

// ExternalStudy is the name of the demo external study.
const ExternalStudy = "Demo external study"

// UseRunner records the runner build of commit sha (already stored in the experiments bucket by
// runner.Upload) and points the demo frameplayer study at it.
func UseRunner(ctx context.Context, pool *pgxpool.Pool, sha string) error {
	q := db.New(pool)
	labID, err := q.SeedLabID(ctx, &labSlug)
	if err != nil {
		return fmt.Errorf("demo: the demo lab: %w", err)
	}
	studyID, err := q.SeedStudyID(ctx, db.SeedStudyIDParams{LabID: labID, Name: FrameplayerStudy})
	if err != nil {
		return fmt.Errorf("demo: the demo frameplayer study: %w", err)
	}
	return postgres.RegisterPlayerBuild(ctx, pool, PlayerRepo, sha, studyID)
}

const jsPsychExperiment = `const jsPsych = initJsPsych();
const trial = {
  type: jsPsychHtmlKeyboardResponse,
  stimulus: "<p>Press any key when your child is looking at the screen.</p>",
};
jsPsych.run([trial]);`

// seedStudies puts one active, public study of each type in the demo lab, for children up to
// five years old (the demo child is eligible for all three).
func seedStudies(ctx context.Context, q *db.Queries, labID, researcherID int64) error {
	for _, st := range []db.SeedStudyParams{
		{Name: FrameplayerStudy, StudyTypeID: 1, Structure: frameplayerProtocol,
			Metadata:         []byte(`{"player_repo_url":"` + PlayerRepo + `","last_known_player_sha":""}`),
			PreviewSummary:   "A two-minute study without a camera: consent, a short text, and a survey.",
			ShortDescription: "Try a whole session of the Lookit experiment runner.", Duration: "2 minutes"},
		{Name: "Demo jsPsych study", StudyTypeID: 3, Structure: []byte(`{"frames":{},"sequence":[]}`),
			Metadata:       mustJSON(map[string]string{"experiment": jsPsychExperiment}),
			PreviewSummary: "A one-trial jsPsych study.", ShortDescription: "Press a key when your child looks at the screen.",
			Duration: "1 minute"},
		{Name: ExternalStudy, StudyTypeID: 2, Structure: []byte(`{"frames":{},"sequence":[]}`),
			Metadata:       []byte(`{"url":"https://example.org/demo-study","scheduled":false,"study_platform":"other"}`),
			PreviewSummary: "A study that runs on another site.", ShortDescription: "You will be sent to the lab's own site.",
			Duration: "5 minutes"},
	} {
		if _, err := q.SeedStudyID(ctx, db.SeedStudyIDParams{LabID: labID, Name: st.Name}); err == nil {
			continue
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("demo study %s: %w", st.Name, err)
		}
		st.LabID, st.CreatorID = labID, &researcherID
		st.Purpose = "To show what taking part looks like."
		st.Criteria = "Children from birth to five years."
		st.CompensationDescription = "None: this is a demonstration."
		id, err := q.SeedStudy(ctx, st)
		if err != nil {
			return fmt.Errorf("demo study %s: %w", st.Name, err)
		}
		if err := q.SeedStudyResearcher(ctx, db.SeedStudyResearcherParams{StudyID: id, UserID: researcherID}); err != nil {
			return fmt.Errorf("demo study %s: %w", st.Name, err)
		}
		if err := q.SeedStudyLog(ctx, db.SeedStudyLogParams{StudyID: id, UserID: &researcherID}); err != nil {
			return fmt.Errorf("demo study %s: %w", st.Name, err)
		}
	}
	return nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
