package accounts_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/apperr"
)

// checkInvalid fails unless err is an Invalid *apperr.Error that names a field by JSON pointer.
func checkInvalid(t *testing.T, err error) {
	t.Helper()
	var e *apperr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is %T, not *apperr.Error", err, err)
	}
	if e.Code != apperr.Invalid || e.Field == "" || !strings.HasPrefix(e.Field, "/") || e.Message == "" {
		t.Fatalf("error %+v: want code invalid and a field pointer", e)
	}
}

func FuzzChildInput(f *testing.F) {
	seeds := []string{
		`{"given_name":"Ada","birthday":"2024-02-29","gender":"f","gestational_age_at_birth":2,"languages_spoken":["en","es"],"existing_conditions":["deaf"]}`,
		`{"given_name":"","birthday":"2025-02-30","gender":"x"}`,
		`{"given_name":"Bo","birthday":"2030-01-01","gender":"m"}`,
		`{"given_name":"Bo","birthday":"2020-01-01","gender":"na","languages_spoken":["xx"]}`,
		`{"given_name":"Bo","birthday":"2020-01-01","gender":"o","gestational_age_at_birth":24}`,
		`{"given_name":"\u0000","birthday":"2020-01-01","gender":"o"}`,
		`{"given_name":"Bo","birthday":"2020-01-01","gender":"o","existing_conditions":[""],"languages_spoken":null}`,
		`{}`, `null`, `[]`, `{"gestational_age_at_birth":-9223372036854775808}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in accounts.ChildInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		err := in.Validate(today)
		c, cerr := in.Child(today)
		if (err == nil) != (cerr == nil) {
			t.Fatalf("Validate = %v but Child = %v", err, cerr)
		}
		if err != nil {
			checkInvalid(t, err)
			checkInvalid(t, cerr)
			return
		}
		// Whatever passes is storable as-is.
		if c.GivenName == "" || len([]rune(c.GivenName)) > accounts.MaxNameRunes || c.Birthday.After(today) ||
			!c.Birthday.Valid() || !accounts.ValidGestationalAge(c.GestationalAge) ||
			!c.Languages.Valid() || !c.Conditions.Valid() || strings.ContainsRune(c.AdditionalInformation, 0) {
			t.Fatalf("accepted an unstorable child %+v", c)
		}
		if len(c.Languages.Codes()) > len(in.LanguagesSpoken) || len(c.Conditions.Codes()) > len(in.ExistingConditions) {
			t.Fatalf("bit sets grew: %+v from %+v", c, in)
		}
	})
}

func FuzzDemographicsInput(f *testing.F) {
	seeds := []string{
		`{"number_of_children":"2","child_birthdays":["2024-02-29"],"number_of_guardians":"varies","us_race_ethnicity_identification":["white","other"],"age":"35-39","gender":"f","education_level":"grad","annual_income":"190000","country":"US","state":"MA","density":"rural","extra":{"a":[1,{"b":null}]}}`,
		`{"number_of_children":"11","annual_income":"25000"}`,
		`{"child_birthdays":["2025-02-30","2099-01-01"]}`,
		`{"country":"CA","state":"MA"}`,
		`{"us_race_ethnicity_identification":["xx"]}`,
		`{"extra":[1,2]}`, `{"extra":"\u0000"}`, `{"extra":{"k":"\u0000"}}`, `{"extra":null}`,
		`{}`, `null`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var in accounts.DemographicsInput
		if json.Unmarshal(data, &in) != nil {
			return
		}
		err := in.Validate(today)
		d, derr := in.Demographics(today)
		if (err == nil) != (derr == nil) {
			t.Fatalf("Validate = %v but Demographics = %v", err, derr)
		}
		if err != nil {
			checkInvalid(t, err)
			checkInvalid(t, derr)
			return
		}
		if len(d.Extra) == 0 || d.Extra[0] != '{' || !json.Valid(d.Extra) || len(d.Extra) > accounts.MaxExtraBytes {
			t.Fatalf("accepted extra %q", d.Extra)
		}
		if d.State != "" && d.Country != accounts.CountryUS {
			t.Fatalf("accepted state %q for country %q", d.State, d.Country)
		}
		for _, b := range d.ChildBirthdays {
			if !b.Valid() || b.After(today) {
				t.Fatalf("accepted birthday %v", b)
			}
		}
	})
}
