package accounts_test

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
)

func validDemographics() accounts.DemographicsInput {
	return accounts.DemographicsInput{
		NumberOfChildren:                      "2",
		ChildBirthdays:                        []string{"2024-02-29", "2019-07-01"},
		NumberOfGuardians:                     "varies",
		NumberOfGuardiansExplanation:          "Grandparents help.",
		USRaceEthnicityIdentification:         []string{"other", "white", "hisp", "white"},
		USRaceEthnicityIdentificationDescribe: "Basque",
		Age:                                   "35-39",
		Gender:                                "o",
		GenderSelfDescribe:                    "genderqueer",
		EducationLevel:                        "grad",
		AnnualIncome:                          "190000",
		Country:                               "US",
		State:                                 "MA",
		Density:                               "suburban",
		LookitReferrer:                        "a friend",
		AdditionalComments:                    "none\nreally",
		Extra:                                 json.RawMessage(`{"source":"survey","n":[1,2]}`),
	}
}

func TestDemographicsValid(t *testing.T) {
	in := validDemographics()
	if err := in.Validate(today); err != nil {
		t.Fatal(err)
	}
	d, err := in.Demographics(today)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.USRaceEthnicityIdentification, []string{"white", "hisp", "other"}) {
		t.Errorf("race = %v, want de-duplicated in Lookit's order", d.USRaceEthnicityIdentification)
	}
	if len(d.ChildBirthdays) != 2 || d.ChildBirthdays[0].String() != "2024-02-29" || d.ChildBirthdays[1].String() != "2019-07-01" {
		t.Errorf("birthdays = %v", d.ChildBirthdays)
	}
	if string(d.Extra) != `{"source":"survey","n":[1,2]}` || d.State != "MA" || d.AnnualIncome != "190000" {
		t.Errorf("Demographics = %+v", d)
	}
}

func TestDemographicsAllEmptyIsValid(t *testing.T) {
	var in accounts.DemographicsInput
	if err := in.Validate(today); err != nil {
		t.Fatal(err)
	}
	d, err := in.Demographics(today)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Extra) != "{}" || d.ChildBirthdays == nil || d.USRaceEthnicityIdentification == nil {
		t.Errorf("empty Demographics = %+v (lists must be empty, not nil, for NOT NULL arrays)", d)
	}
	var fromJSON accounts.DemographicsInput
	if err := json.Unmarshal([]byte(`{"extra":null,"country":"","state":""}`), &fromJSON); err != nil {
		t.Fatal(err)
	}
	d, err = fromJSON.Demographics(today)
	if err != nil || string(d.Extra) != "{}" {
		t.Errorf("null extra = %s, %v", d.Extra, err)
	}
}

func TestDemographicsChoices(t *testing.T) {
	want := map[string][]string{
		"number_of_children":               {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", ">10"},
		"number_of_guardians":              {"1", "2", "3", "varies"},
		"us_race_ethnicity_identification": {"white", "hisp", "black", "asian", "native", "mideast-naf", "hawaiian-pac-isl", "other"},
		"age":                              {"<18", "18-21", "22-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50s", "60s", ">70"},
		"gender":                           {"m", "f", "o", "na"},
		"education_level":                  {"some", "hs", "col", "assoc", "bach", "grad", "prof"},
		"annual_income": {"0", "5000", "10000", "15000", "20000", "30000", "40000", "50000", "60000", "70000",
			"80000", "90000", "100000", "110000", "120000", "130000", "140000", "150000", "160000", "170000",
			"180000", "190000", ">200000", "na"},
		"density": {"urban", "suburban", "rural"},
	}
	for field, values := range want {
		var got []string
		for _, c := range accounts.DemographicChoices(field) {
			got = append(got, c.Value)
			if c.Label == "" {
				t.Errorf("%s %q has no label", field, c.Value)
			}
		}
		if !slices.Equal(got, values) {
			t.Errorf("%s = %v\nwant %v", field, got, values)
		}
	}
	if accounts.DemographicChoices("country") != nil || accounts.DemographicChoices("nope") != nil {
		t.Error("choices for a field without a choice list")
	}
	if len(accounts.DemographicChoices("state")) != 62 {
		t.Errorf("%d states", len(accounts.DemographicChoices("state")))
	}
}

// Every single-choice field accepts "" and each of its values, and rejects anything else.
func TestDemographicsSingleChoiceFields(t *testing.T) {
	fields := map[string]func(*accounts.DemographicsInput, string){
		"number_of_children":  func(in *accounts.DemographicsInput, v string) { in.NumberOfChildren = v },
		"number_of_guardians": func(in *accounts.DemographicsInput, v string) { in.NumberOfGuardians = v },
		"age":                 func(in *accounts.DemographicsInput, v string) { in.Age = v },
		"gender":              func(in *accounts.DemographicsInput, v string) { in.Gender = v },
		"education_level":     func(in *accounts.DemographicsInput, v string) { in.EducationLevel = v },
		"annual_income":       func(in *accounts.DemographicsInput, v string) { in.AnnualIncome = v },
		"density":             func(in *accounts.DemographicsInput, v string) { in.Density = v },
	}
	for field, set := range fields {
		values := []string{""}
		for _, c := range accounts.DemographicChoices(field) {
			values = append(values, c.Value)
		}
		for _, v := range values {
			in := validDemographics()
			set(&in, v)
			if err := in.Validate(today); err != nil {
				t.Errorf("%s=%q rejected: %v", field, v, err)
			}
		}
		for _, v := range []string{"bogus", " ", strings.ToUpper(values[len(values)-1]) + "X"} {
			in := validDemographics()
			set(&in, v)
			wantField(t, in.Validate(today), "/"+field)
		}
	}
}

func TestDemographicsRejections(t *testing.T) {
	megabyte := strings.Repeat("z", 1<<20)
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	cases := []struct {
		name   string
		mutate func(*accounts.DemographicsInput)
		field  string
	}{
		{"11 children", func(in *accounts.DemographicsInput) { in.NumberOfChildren = "11" }, "/number_of_children"},
		{"more than 10 spelled out", func(in *accounts.DemographicsInput) { in.NumberOfChildren = "more" }, "/number_of_children"},
		{"invalid child birthday", func(in *accounts.DemographicsInput) { in.ChildBirthdays = []string{"2020-01-01", "2025-02-30"} }, "/child_birthdays/1"},
		{"future child birthday", func(in *accounts.DemographicsInput) { in.ChildBirthdays = []string{"2026-05-11"} }, "/child_birthdays/0"},
		{"empty child birthday", func(in *accounts.DemographicsInput) { in.ChildBirthdays = []string{""} }, "/child_birthdays/0"},
		{"ancient child birthday", func(in *accounts.DemographicsInput) { in.ChildBirthdays = []string{"1800-01-01"} }, "/child_birthdays/0"},
		{"101 child birthdays", func(in *accounts.DemographicsInput) { in.ChildBirthdays = repeat("2020-01-01", 101) }, "/child_birthdays"},
		{"old guardians value 3>", func(in *accounts.DemographicsInput) { in.NumberOfGuardians = "3>" }, "/number_of_guardians"},
		{"4 guardians", func(in *accounts.DemographicsInput) { in.NumberOfGuardians = "4" }, "/number_of_guardians"},
		{"1 MB guardians explanation", func(in *accounts.DemographicsInput) { in.NumberOfGuardiansExplanation = megabyte }, "/number_of_guardians_explanation"},
		{"unknown race", func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentification = []string{"white", "xx"} }, "/us_race_ethnicity_identification/1"},
		{"empty race", func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentification = []string{""} }, "/us_race_ethnicity_identification/0"},
		{"race label", func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentification = []string{"White"} }, "/us_race_ethnicity_identification/0"},
		{"101 race entries", func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentification = repeat("white", 101) }, "/us_race_ethnicity_identification"},
		{"NUL in race description", func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentificationDescribe = "\x00" }, "/us_race_ethnicity_identification_describe"},
		{"old age value 45-59", func(in *accounts.DemographicsInput) { in.Age = "45-59" }, "/age"},
		{"age as number", func(in *accounts.DemographicsInput) { in.Age = "37" }, "/age"},
		{"gender male", func(in *accounts.DemographicsInput) { in.Gender = "male" }, "/gender"},
		{"10001-rune gender description", func(in *accounts.DemographicsInput) { in.GenderSelfDescribe = strings.Repeat("é", 10001) }, "/gender_self_describe"},
		{"education phd", func(in *accounts.DemographicsInput) { in.EducationLevel = "phd" }, "/education_level"},
		{"income 25000", func(in *accounts.DemographicsInput) { in.AnnualIncome = "25000" }, "/annual_income"},
		{"income 200000", func(in *accounts.DemographicsInput) { in.AnnualIncome = "200000" }, "/annual_income"},
		{"income 195000", func(in *accounts.DemographicsInput) { in.AnnualIncome = "195000" }, "/annual_income"},
		{"income with comma", func(in *accounts.DemographicsInput) { in.AnnualIncome = "50,000" }, "/annual_income"},
		{"lower-case country", func(in *accounts.DemographicsInput) { in.Country = "us" }, "/country"},
		{"alpha-3 country", func(in *accounts.DemographicsInput) { in.Country = "USA" }, "/country"},
		{"user-assigned XK", func(in *accounts.DemographicsInput) { in.Country = "XK" }, "/country"},
		{"reserved UK", func(in *accounts.DemographicsInput) { in.Country = "UK"; in.State = "" }, "/country"},
		{"unknown state", func(in *accounts.DemographicsInput) { in.State = "ZZ" }, "/state"},
		{"lower-case state", func(in *accounts.DemographicsInput) { in.State = "ma" }, "/state"},
		{"placeholder XX", func(in *accounts.DemographicsInput) { in.State = "XX" }, "/state"},
		{"state outside the US", func(in *accounts.DemographicsInput) { in.Country = "CA"; in.State = "MA" }, "/state"},
		{"state without country", func(in *accounts.DemographicsInput) { in.Country = ""; in.State = "MA" }, "/state"},
		{"density city", func(in *accounts.DemographicsInput) { in.Density = "city" }, "/density"},
		{"1 MB referrer", func(in *accounts.DemographicsInput) { in.LookitReferrer = megabyte }, "/lookit_referrer"},
		{"ESC in comments", func(in *accounts.DemographicsInput) { in.AdditionalComments = "\x1b[31m" }, "/additional_comments"},
		{"extra array", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`[1]`) }, "/extra"},
		{"extra string", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`"x"`) }, "/extra"},
		{"extra malformed", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`{"a":`) }, "/extra"},
		{"extra trailing data", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`{} {}`) }, "/extra"},
		{"extra too big", func(in *accounts.DemographicsInput) { in.Extra = bigObject(16<<10 + 1) }, "/extra"},
		{"extra NUL escape", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`{"a":"x\u0000"}`) }, "/extra"},
		{"extra NUL in key", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`{"\u0000":1}`) }, "/extra"},
		{"extra unpaired surrogate", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(`{"a":"\ud800"}`) }, "/extra"},
		{"extra invalid UTF-8", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage("{\"a\":\"\xff\"}") }, "/extra"},
		{"extra too deep", func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(deep) }, "/extra"},
		{"first bad field wins", func(in *accounts.DemographicsInput) { in.Density = "x"; in.Age = "x" }, "/age"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := validDemographics()
			tc.mutate(&in)
			wantField(t, in.Validate(today), tc.field)
			_, err := in.Demographics(today)
			wantField(t, err, tc.field)
		})
	}
}

// bigObject returns a JSON object of exactly n bytes.
func bigObject(n int) json.RawMessage {
	prefix, suffix := `{"k":"`, `"}`
	return json.RawMessage(prefix + strings.Repeat("v", n-len(prefix)-len(suffix)) + suffix)
}

func TestDemographicsEdgeValues(t *testing.T) {
	cases := map[string]func(*accounts.DemographicsInput){
		"extra exactly 16 KiB": func(in *accounts.DemographicsInput) { in.Extra = bigObject(16 << 10) },
		"extra empty object":   func(in *accounts.DemographicsInput) { in.Extra = json.RawMessage(` {} `) },
		"extra nested 32 deep": func(in *accounts.DemographicsInput) { in.Extra = nested(31) },
		"non-US country":       func(in *accounts.DemographicsInput) { in.Country = "GB"; in.State = "" },
		"US without state":     func(in *accounts.DemographicsInput) { in.State = "" },
		"territory":            func(in *accounts.DemographicsInput) { in.State = "PR" },
		"armed forces":         func(in *accounts.DemographicsInput) { in.State = "AE" },
		"DC":                   func(in *accounts.DemographicsInput) { in.State = "DC" },
		"child born today":     func(in *accounts.DemographicsInput) { in.ChildBirthdays = []string{today.String()} },
		"no race":              func(in *accounts.DemographicsInput) { in.USRaceEthnicityIdentification = nil },
		"every race": func(in *accounts.DemographicsInput) {
			in.USRaceEthnicityIdentification = values("us_race_ethnicity_identification")
		},
		"income >200000":         func(in *accounts.DemographicsInput) { in.AnnualIncome = ">200000" },
		"income 0":               func(in *accounts.DemographicsInput) { in.AnnualIncome = "0" },
		"income 20000":           func(in *accounts.DemographicsInput) { in.AnnualIncome = "20000" },
		"income na":              func(in *accounts.DemographicsInput) { in.AnnualIncome = "na" },
		"more than ten children": func(in *accounts.DemographicsInput) { in.NumberOfChildren = ">10" },
		"10000-rune comments":    func(in *accounts.DemographicsInput) { in.AdditionalComments = strings.Repeat("ü", 10000) },
	}
	for name, mutate := range cases {
		in := validDemographics()
		mutate(&in)
		if _, err := in.Demographics(today); err != nil {
			t.Errorf("%s: rejected: %v", name, err)
		}
	}
}

// nested returns {"a":{"a":…1…}} with depth objects.
func nested(depth int) json.RawMessage {
	return json.RawMessage(strings.Repeat(`{"a":`, depth) + `{}` + strings.Repeat("}", depth))
}

func values(field string) []string {
	var out []string
	for _, c := range accounts.DemographicChoices(field) {
		out = append(out, c.Value)
	}
	return out
}

func TestCountriesAndStates(t *testing.T) {
	cs := accounts.CountryCodes()
	if len(cs) != 249 {
		t.Errorf("%d country codes, ISO 3166-1 assigns 249", len(cs))
	}
	if !sort.StringsAreSorted(cs) {
		t.Error("country codes not sorted")
	}
	seen := map[string]bool{}
	for _, c := range cs {
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || seen[c] {
			t.Errorf("bad or duplicate country %q", c)
		}
		seen[c] = true
		if !accounts.ValidCountry(c) {
			t.Errorf("ValidCountry(%q) = false", c)
		}
	}
	for _, c := range []string{"US", "GB", "DE", "JP", "SS", "BQ", "CW", "SX", "AX", "PS", "TW"} {
		if !seen[c] {
			t.Errorf("missing %s", c)
		}
	}
	for _, c := range []string{"UK", "XK", "EU", "AN", "YU", "CS", "ZZ", "", "u", "USA"} {
		if accounts.ValidCountry(c) {
			t.Errorf("ValidCountry(%q) = true", c)
		}
	}

	states := accounts.StateChoices()
	if len(states) != 62 {
		t.Errorf("%d states, want 62 (50 + DC + 5 territories + 3 military + 3 COFA)", len(states))
	}
	for i, s := range states {
		if i > 0 && states[i-1].Value >= s.Value {
			t.Errorf("states not sorted at %s", s.Value)
		}
		if !accounts.ValidState(s.Value) || s.Label == "" {
			t.Errorf("state %+v", s)
		}
	}
	for _, s := range []string{"XX", "CM", "TT", "", "Ma"} {
		if accounts.ValidState(s) {
			t.Errorf("ValidState(%q) = true", s)
		}
	}
}
