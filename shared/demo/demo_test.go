package demo_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"lookit.dev/platform/shared/demo"
	"lookit.dev/platform/shared/passwords"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestSeedIsIdempotentAndUsable(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := demo.Seed(ctx, pool, "pw-for-demo", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"); err != nil {
			t.Fatalf("seed %d: %v", i+1, err)
		}
	}
	var users, labs, members, children, demographics, totp int
	err := pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM users WHERE email NOT LIKE '%@' || $2), (SELECT count(*) FROM labs WHERE approved_to_test),
		(SELECT count(*) FROM lab_members m JOIN users u ON u.id = m.user_id WHERE u.email = 'RESEARCHER@example.org' AND m.role = 'admin'),
		(SELECT count(*) FROM children c JOIN users u ON u.id = c.user_id WHERE u.email = $1),
		(SELECT count(*) FROM demographic_data d JOIN users u ON u.id = d.user_id WHERE u.email = $1), (SELECT count(*) FROM totp_devices WHERE activated_at IS NOT NULL)`,
		demo.ParentEmail, demo.FamilyDomain).Scan(&users, &labs, &members, &children, &demographics, &totp)
	if err != nil {
		t.Fatal(err)
	}
	if users != 3 || labs != 1 || members != 1 || children != 1 || demographics != 1 || totp != 2 {
		t.Fatalf("after seeding twice: users %d, approved labs %d, researcher admin %d, children %d, demographics %d, totp %d",
			users, labs, members, children, demographics, totp)
	}
	var hash string
	var admin bool
	if err := pool.QueryRow(ctx, `SELECT password_hash, is_site_admin FROM users WHERE email = $1`, demo.AdminEmail).Scan(&hash, &admin); err != nil {
		t.Fatal(err)
	}
	if ok, err := passwords.Verify("pw-for-demo", hash); !ok || err != nil || !admin {
		t.Fatalf("admin password verifies %v (%v), site admin %v", ok, err, admin)
	}
	// One active, public study of each type, all three open to the demo child.
	rows, err := pool.Query(ctx, `SELECT s.study_type_id, s.state, s.public, study_eligibility(s.id, c.id, current_date)
		FROM studies s, children c JOIN users u ON u.id = c.user_id WHERE u.email = $1 ORDER BY s.study_type_id`, demo.ParentEmail)
	if err != nil {
		t.Fatal(err)
	}
	var types []int16
	for rows.Next() {
		var typ int16
		var state string
		var public bool
		var elig []string
		if err := rows.Scan(&typ, &state, &public, &elig); err != nil {
			t.Fatal(err)
		}
		if state != "active" || !public || len(elig) != 1 || elig[0] != "Eligible" {
			t.Errorf("study type %d: %s public=%v eligibility %v", typ, state, public, elig)
		}
		types = append(types, typ)
	}
	if fmt.Sprint(types) != "[1 2 3]" {
		t.Errorf("demo study types %v", types)
	}
	if err := demo.Seed(ctx, pool, "", ""); err == nil {
		t.Fatal("seeding without DEMO_PASSWORD succeeded")
	}
}
