// Package demo seeds the local stack with people to try the platform as: a site admin, a
// researcher in an approved lab, and a parent with one child and demographics. Seeding is
// idempotent: running it again changes nothing that exists.
package demo

import (
	"context"
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
