// Package demo seeds the local stack with people to try the platform as: a site admin, a
// researcher in an approved lab, and a parent with one child and demographics. Seeding is
// idempotent: running it again changes nothing that exists.
package demo

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres"
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
	return postgres.InTx(ctx, pool, func(tx pgx.Tx) error {
		user := func(email, given, family string, researcher, admin bool) (int64, error) {
			var id int64
			err := tx.QueryRow(ctx, `
				INSERT INTO users (email, password_hash, given_name, family_name, nickname, is_researcher, is_site_admin, email_verified_at)
				VALUES ($1, $2, $3, $4, $3, $5, $6, now())
				ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email
				RETURNING id`, email, hash, given, family, researcher, admin).Scan(&id)
			return id, err
		}
		adminID, err := user(AdminEmail, "Ada", "Admin", true, true)
		if err != nil {
			return fmt.Errorf("demo admin: %w", err)
		}
		researcherID, err := user(ResearcherEmail, "Rosa", "Researcher", true, false)
		if err != nil {
			return fmt.Errorf("demo researcher: %w", err)
		}
		parentID, err := user(ParentEmail, "Pat", "Parent", false, false)
		if err != nil {
			return fmt.Errorf("demo parent: %w", err)
		}
		for _, id := range []int64{adminID, researcherID} {
			if totpSecret == "" {
				break
			}
			if _, err := tx.Exec(ctx, `
				INSERT INTO totp_devices (user_id, secret, activated_at) VALUES ($1, $2, now())
				ON CONFLICT (user_id) DO NOTHING`, id, totpSecret); err != nil {
				return fmt.Errorf("demo totp: %w", err)
			}
		}
		var labID int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO labs (name, slug, institution, principal_investigator_name, contact_email, description, approved_to_test)
			VALUES ($1, 'demo-lab', 'Example University', 'Rosa Researcher', $2, 'A lab to try the platform with.', true)
			ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
			RETURNING id`, LabName, ResearcherEmail).Scan(&labID); err != nil {
			return fmt.Errorf("demo lab: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO lab_members (lab_id, user_id, role) VALUES ($1, $2, 'admin')
			ON CONFLICT DO NOTHING`, labID, researcherID); err != nil {
			return fmt.Errorf("demo lab member: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO children (user_id, given_name, birthday, gender, gestational_age_at_birth, languages_spoken)
			SELECT $1, 'Sam', (current_date - interval '14 months')::date, 'f', 39, 1
			WHERE NOT EXISTS (SELECT 1 FROM children WHERE user_id = $1)`, parentID); err != nil {
			return fmt.Errorf("demo child: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO demographic_data (user_id, number_of_children, child_birthdays, number_of_guardians,
			                              us_race_ethnicity_identification, age, gender, education_level,
			                              annual_income, country, state, density, lookit_referrer)
			SELECT $1, '1', ARRAY[(current_date - interval '14 months')::date], '2', '{white}', '30-34', 'f',
			       'grad', '90000', 'US', 'MA', 'urban', 'A friend'
			WHERE NOT EXISTS (SELECT 1 FROM demographic_data WHERE user_id = $1)`, parentID); err != nil {
			return fmt.Errorf("demo demographics: %w", err)
		}
		return nil
	})
}
