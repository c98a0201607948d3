package labs_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/apperr"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/labs"
)

func TestLastAdminRule(t *testing.T) {
	cases := []struct {
		from, to authz.LabRole
		admins   int
		ok       bool
	}{
		{authz.LabAdmin, authz.LabMember, 1, false},
		{authz.LabAdmin, "", 1, false}, // removal
		{authz.LabAdmin, authz.LabAdmin, 1, true},
		{authz.LabAdmin, authz.LabGuest, 2, true},
		{authz.LabMember, "", 1, true},
		{authz.LabRequested, authz.LabAdmin, 0, true},
	}
	for _, c := range cases {
		if err := labs.CheckLastAdmin(c.from, c.to, c.admins); (err == nil) != c.ok {
			t.Errorf("%s -> %q with %d admins: %v", c.from, c.to, c.admins, err)
		}
	}
}

func TestParseRoleRefusesRequestedAndUnknown(t *testing.T) {
	for _, s := range []string{"guest", "readonly", "member", "admin"} {
		if r, err := labs.ParseRole(s); err != nil || string(r) != s {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"requested", "Admin", "owner", ""} {
		if _, err := labs.ParseRole(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// Clean either names a field or returns details that pass Clean again unchanged.
func FuzzLabInputClean(f *testing.F) {
	f.Add("Lab", "lab-1", "U", "PI", "lab@example.org", "+1 555", "https://x.org", "d", "irb")
	f.Add(" ", "A B", "", "", "x", "", "javascript:1", "", "")
	f.Fuzz(func(t *testing.T, name, slug, inst, pi, email, phone, web, desc, irb string) {
		in := labs.Input{Name: name, Slug: slug, Institution: inst, PrincipalInvestigatorName: pi, ContactEmail: email,
			ContactPhone: phone, LabWebsite: web, Description: desc, IRBContactInfo: irb}
		out, err := in.Clean()
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		for _, s := range []string{out.Name, out.Description, out.ContactEmail} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 accepted: %q", s)
			}
		}
		again, err := out.Clean()
		if err != nil || again != out {
			t.Fatalf("not stable: %+v -> %+v, %v", out, again, err)
		}
	})
}
