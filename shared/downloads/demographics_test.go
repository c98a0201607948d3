package downloads_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/downloads"
)

// demographicResponse uses shared/hashedid's second test vector: study 11111111-… with salt
// 0f8c3b1e-…, parent 6a8b61a0-… hashes to E7TcPM; the snapshot 1e9d2a0f-… is study XOR salt,
// so it XORs to zero and hashes to the all-zero vector's first 6 characters, G5DQR7.
//
// Ages on the session's day (2024-05-01): 2024-03-02 is 60 days (round(6.0) → 60) and
// 2023-04-01 is 396 days (above 360: round(13.2) → 13 × 30 = 390).
func demographicResponse(t testing.TB) *downloads.Response {
	r := handMadeResponse(t)
	r.Study.Salt = uuid.MustParse("0f8c3b1e-5d2a-4c7b-9e61-2a3b4c5d6e7f")
	r.Participant.UUID = uuid.MustParse("6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3")
	r.Demographics = &accounts.Demographics{
		UUID:                          "1e9d2a0f-4c3b-0d6a-1f70-3b2a5d4c7f6e",
		NumberOfChildren:              "2",
		ChildBirthdays:                []accounts.Date{accounts.NewDate(2024, 3, 2), accounts.NewDate(2023, 4, 1)},
		NumberOfGuardians:             "2",
		USRaceEthnicityIdentification: []string{"white", "asian"},
		Age:                           "30-34",
		Gender:                        "f",
		EducationLevel:                "grad",
		AnnualIncome:                  "80000",
		AdditionalComments:            `We love "science", truly`,
		Country:                       "US",
		State:                         "MA",
		Density:                       "urban",
		LookitReferrer:                "A friend",
		Extra:                         json.RawMessage(`{}`),
		CreatedAt:                     time.Date(2024, 4, 2, 21, 39, 3, 0, time.UTC),
	}
	return r
}

func TestDemographicsCSV(t *testing.T) {
	var out bytes.Buffer
	d := downloads.NewDemographicsCSV(&out, must(downloads.NewOptions("participant__global_id")))
	if err := d.Write(demographicResponse(t)); err != nil {
		t.Fatal(err)
	}
	noSnapshot := demographicResponse(t)
	noSnapshot.Demographics = nil
	if err := d.Write(noSnapshot); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	want := `"response__uuid","participant__global_id","participant__hashed_id","demographic__hashed_id",` +
		`"demographic__date_created","demographic__number_of_children","demographic__child_rounded_ages",` +
		`"demographic__number_of_guardians","demographic__us_race_ethnicity_identification","demographic__parent_age",` +
		`"demographic__parent_gender","demographic__education_level","demographic__annual_income",` +
		`"demographic__additional_comments","demographic__country","demographic__state","demographic__density",` +
		`"demographic__lookit_referrer"` + "\r\n" +
		`"5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8","6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3","E7TcPM","G5DQR7",` +
		`"2024-04-02 21:39:03+00:00","2","[60, 390]","2","['white', 'asian']","30-34","f","grad","80000",` +
		`"We love ""science"", truly","US","MA","urban","A friend"` + "\r\n" +
		`"5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8","6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3","E7TcPM"` +
		strings.Repeat(`,""`, 15) + "\r\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestDemographicsJSON(t *testing.T) {
	var out bytes.Buffer
	d := downloads.NewDemographicsJSON(&out, downloads.DefaultOptions())
	if err := d.Write(demographicResponse(t)); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	want := "[ {\n\t\"response\": {\n\t\t\"uuid\": \"5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8\"\n\t},\n" +
		"\t\"participant\": {\n\t\t\"hashed_id\": \"E7TcPM\"\n\t},\n" +
		"\t\"demographic\": {\n\t\t\"hashed_id\": \"G5DQR7\",\n\t\t\"date_created\": \"2024-04-02 21:39:03+00:00\",\n" +
		"\t\t\"number_of_children\": \"2\",\n\t\t\"child_rounded_ages\": [\n\t\t\t60,\n\t\t\t390\n\t\t],\n" +
		"\t\t\"number_of_guardians\": \"2\",\n\t\t\"us_race_ethnicity_identification\": [\n\t\t\t\"white\",\n\t\t\t\"asian\"\n\t\t],\n" +
		"\t\t\"parent_age\": \"30-34\",\n\t\t\"parent_gender\": \"f\",\n\t\t\"education_level\": \"grad\",\n" +
		"\t\t\"annual_income\": \"80000\",\n\t\t\"additional_comments\": \"We love \\\"science\\\", truly\",\n" +
		"\t\t\"country\": \"US\",\n\t\t\"state\": \"MA\",\n\t\t\"density\": \"urban\",\n\t\t\"lookit_referrer\": \"A friend\"\n\t}\n} ]"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}

	out.Reset()
	empty := downloads.NewDemographicsJSON(&out, downloads.Options{})
	if err := empty.Close(); err != nil || out.String() != "[  ]" {
		t.Errorf("empty file = %q, %v; want Lookit's \"[  ]\"", out.String(), err)
	}
}

func TestChildrenCSVOneRowPerChild(t *testing.T) {
	first := handMadeResponse(t)
	again := handMadeResponse(t) // the same child a month later: skipped
	again.CreatedAt = again.CreatedAt.AddDate(0, 1, 0)
	other := handMadeResponse(t)
	other.Child.UUID = "6a8b61a0-6ce1-46e7-a3fe-d53444f6cda3"
	other.Child.GivenName = "Bo"

	var out bytes.Buffer
	c := downloads.NewChildrenCSV(&out, must(downloads.NewOptions("child__name", "child__age_in_days")))
	for _, r := range []*downloads.Response{first, again, other} {
		if err := c.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	want := []string{
		`"participant__hashed_id","child__hashed_id","child__name","child__age_in_days"`,
		`"G5DQR7","SMMJBK","Zoë",375`, // from the child's first response
	}
	if len(lines) != 3 || lines[0] != want[0] || lines[1] != want[1] || !strings.Contains(lines[2], `"Bo"`) {
		t.Errorf("children overview:\n%s", out.String())
	}
	if strings.Contains(out.String(), "response__") || strings.Contains(out.String(), "consent") {
		t.Errorf("children overview has response columns:\n%s", out.String())
	}
}
