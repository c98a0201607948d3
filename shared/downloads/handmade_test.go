package downloads_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/downloads"
)

// The hand-made response of the golden files in testdata/. Every expected value there was
// derived by hand from Lookit's definitions, not by running this package:
//
//   - Hashed ids come from shared/hashedid's test vectors. The study (11111111-…, salt
//     33333333-…) and the child 22222222-2222-4222-8222-222222222222 are the first vector:
//     SMMJBK. Lookit's hash XORs the three UUIDs, so the parent
//     22222222-2222-0222-0222-222222222222 (= study XOR salt) XORs to zero: the first 6
//     characters of the all-zero vector, G5DQR7.
//   - The child was born 2023-04-22 and the session began 2024-05-01 (UTC): 375 days (2024 is
//     a leap year). Above 360 days the age is rounded to 30 days: round(12.5) is 12 in Python
//     3, so 360, not 390. It is written as text ("360"); the exact age is an int (375).
//   - The exit survey's birthDate "2023-04-20T04:00:00.000Z" gives "2023-04-20": two days
//     before the registered birthday, -2.
//   - withdrawal false gives False; feedback, useOfMedia and databraryShare are copied.
//   - Lists are flattened: response__eligibility.0, response__sequence.0…3 and
//     response__conditions.0.frameName (first), .conditionNum, .parameterSet.SIDE and
//     .parameterSet.WAIT, sorted after the fixed columns; the fixed list columns stay "".
//   - Gestational age 2 is "25 weeks"; languages en and es in bit order; consent time is
//     "%Y-%m-%d %H:%M" of the ruling.
//   - QUOTE_NONNUMERIC: text quoted with "" for ", numbers and True/False bare, the line break
//     in the feedback kept, rows ended by CRLF.
//   - Frame data: global events first (lastPageSeen an int, a dict value as Python's repr),
//     then each frame with frameType dropped, the null generatedProperties dropped but
//     generatedProperties.side kept, the EXIT frame's birthDate dropped, eventTimings.N.k as
//     event N and key k, floats as Python prints them (1e-05, 53.7).
const (
	studyName    = "Baby's First Study: Look! (v2)"
	responseUUID = "5e1f2c3a-0b9d-4e7f-a1c2-d3e4f5a6b7c8"
	studyUUID    = "11111111-1111-4111-8111-111111111111"
	studySalt    = "33333333-3333-4333-8333-333333333333"
	childUUID    = "22222222-2222-4222-8222-222222222222"
	parentUUID   = "22222222-2222-0222-0222-222222222222"
	childHash    = "SMMJBK"
	parentHash   = "G5DQR7"
	handExpData  = `{
 "0-video-config": {"frameType": "DEFAULT", "generatedProperties": null,
   "eventTimings": [{"eventType": "nextFrame", "timestamp": "2024-05-01T17:10:05.100Z"}]},
 "1-video-consent": {"frameType": "CONSENT", "videoId": "videoStream_x_1-video-consent_y",
   "eventTimings": [
     {"eventType": "exp-lookit-video-consent:recorderReady", "timestamp": "2024-05-01T17:10:06.200Z", "streamTime": 0, "pipeId": null},
     {"eventType": "nextFrame", "timestamp": "2024-05-01T17:11:00.000Z", "streamTime": 53.7}]},
 "2-test-trial": {"frameType": "DEFAULT",
   "formData": {"favorite_animal": "giraffe, \"the tall one\"", "notes": "line one\nline two"},
   "lookingTimes": [1.5, 2, 1e-05], "selectedImage": "left", "generatedProperties": {"side": "left"},
   "eventTimings": [
     {"eventType": "exp-lookit-images-audio:startTrial", "timestamp": "2024-05-01T17:11:01.000Z"},
     {"eventType": "exp-lookit-images-audio:endTrial", "timestamp": "2024-05-01T17:11:09.500Z", "trialLength": 8.5}]},
 "3-exit-survey": {"frameType": "EXIT", "birthDate": "2023-04-20T04:00:00.000Z", "databraryShare": "yes",
   "useOfMedia": "scientific", "withdrawal": false, "feedback": "Fun! Zo\u00eb said \"again\",\nthanks",
   "eventTimings": [{"eventType": "nextFrame", "timestamp": "2024-05-01T17:12:00.000Z"}]}
}`
	handGlobalEvents = `[
 {"eventType": "exitEarly", "timestamp": "2024-05-01T17:14:43.626Z", "exitType": "browserNavigationAttempt", "lastPageSeen": 3},
 {"eventType": "pause", "details": {"a": [1, true, null], "b": "it's"}}
]`
	handConditions = `{"2-test-trial": {"conditionNum": 1, "parameterSet": {"SIDE": "left", "WAIT": 2.5}}}`
)

// must is for fixtures built from constants, which cannot fail.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func handMadeResponse(t testing.TB) *downloads.Response {
	t.Helper()
	ga := int16(2)
	return &downloads.Response{
		ID:                 4821,
		UUID:               uuid.MustParse(responseUUID),
		CreatedAt:          time.Date(2024, 5, 1, 17, 9, 58, 123456000, time.UTC),
		Completed:          true,
		Eligibility:        []string{"Eligible"},
		Sequence:           []string{"0-video-config", "1-video-consent", "2-test-trial", "3-exit-survey"},
		Conditions:         json.RawMessage(handConditions),
		ExpData:            json.RawMessage(handExpData),
		GlobalEventTimings: json.RawMessage(handGlobalEvents),
		PaymentStatus:      "to_pay",
		Star:               true,
		Consent: &downloads.ConsentRuling{
			Action: "accepted", ArbiterName: "Dr. Rivera", Comments: "Confirmed by email",
			CreatedAt: time.Date(2024, 5, 2, 9, 30, 45, 0, time.UTC),
		},
		Study:       downloads.Study{UUID: uuid.MustParse(studyUUID), Salt: uuid.MustParse(studySalt), HashDigits: 6},
		Participant: downloads.Participant{UUID: uuid.MustParse(parentUUID), Nickname: `Ana "Mom" O'Neil`},
		Child: accounts.Child{
			UUID:                  childUUID,
			GivenName:             "Zoë",
			Birthday:              accounts.NewDate(2023, time.April, 22),
			Gender:                accounts.GenderFemale,
			GestationalAge:        &ga,
			AdditionalInformation: "Twin, born early",
			Conditions:            must(accounts.ParseConditions([]string{"multiple_birth"})),
			Languages:             must(accounts.ParseLanguages([]string{"es", "en"})),
		},
	}
}

func allOptions(t testing.TB) downloads.Options {
	var ids []string
	for _, c := range downloads.SummaryColumns() {
		if c.Optional {
			ids = append(ids, c.ID)
		}
	}
	return must(downloads.NewOptions(ids...))
}

// golden compares got with a file of testdata, showing the first differing line.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	want, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\r\n"), strings.Split(string(want), "\r\n")
	for i := range max(len(gl), len(wl)) {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at row %d:\n got: %q\nwant: %q", name, i, g, w)
		}
	}
	t.Fatalf("%s differs:\n got: %q\nwant: %q", name, got, want)
}

func TestSummaryCSVMatchesHandDerivedFile(t *testing.T) {
	r := handMadeResponse(t)
	var keys downloads.KeySet
	if err := keys.Add(r); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	s := downloads.NewSummaryCSV(&out, allOptions(t), keys.Keys())
	if err := s.Write(r); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, "summary_all_columns.csv", out.Bytes())
}

func TestFrameDataCSVMatchesHandDerivedFile(t *testing.T) {
	var out bytes.Buffer
	f := downloads.NewFrameDataCSV(&out)
	if err := f.Write(handMadeResponse(t)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	golden(t, "framedata.csv", out.Bytes())
}

func TestResponsesJSONHandMade(t *testing.T) {
	var out bytes.Buffer
	j := downloads.NewResponsesJSON(&out, downloads.DefaultOptions())
	r := handMadeResponse(t)
	for range 2 {
		if err := j.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.HasPrefix(text, "[\n{\n\t\"response\": {\n\t\t\"id\": \"4821\",\n") || !strings.HasSuffix(text, "\n}\n]") ||
		!strings.Contains(text, "\n},\n{\n") {
		t.Fatalf("not Lookit's layout ([\\n, tab indents, ,\\n between elements, \\n]):\n%s", text)
	}
	// Python's json.dumps escapes non-ASCII text.
	if strings.ContainsFunc(text, func(r rune) bool { return r > '~' }) {
		t.Fatalf("non-ASCII text not escaped:\n%s", text)
	}
	if !strings.Contains(text, `"feedback": "Fun! Zo\u00eb said \"again\",\nthanks"`) {
		t.Fatalf("exp_data feedback not escaped as Python does:\n%s", text)
	}

	var got []struct {
		Response    map[string]any  `json:"response"`
		Consent     map[string]any  `json:"consent"`
		Study       map[string]any  `json:"study"`
		Participant map[string]any  `json:"participant"`
		Child       map[string]any  `json:"child"`
		ExpData     json.RawMessage `json:"exp_data"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, text)
	}
	if len(got) != 2 {
		t.Fatalf("%d elements, want 2", len(got))
	}
	e := got[0]
	if e.Response["uuid"] != responseUUID || e.Response["withdrawn"] != false || e.Response["birthdate_difference"] != -2.0 ||
		e.Response["researcher_star"] != true || e.Response["video_privacy"] != "scientific" {
		t.Errorf("response = %v", e.Response)
	}
	if conds, _ := e.Response["conditions"].([]any); len(conds) != 1 || conds[0].(map[string]any)["frameName"] != "2-test-trial" {
		t.Errorf("response.conditions = %v, want one entry with frameName", e.Response["conditions"])
	}
	if e.Consent["ruling"] != "accepted" || e.Study["uuid"] != studyUUID || e.Participant["hashed_id"] != parentHash {
		t.Errorf("consent %v study %v participant %v", e.Consent, e.Study, e.Participant)
	}
	// Default options: rounded age and the other defaults, no name, birthday or global ids.
	if e.Child["hashed_id"] != childHash || e.Child["age_rounded"] != "360" || e.Child["additional_information"] != "Twin, born early" {
		t.Errorf("child = %v", e.Child)
	}
	for _, k := range []string{"name", "birthday", "global_id", "age_in_days"} {
		if _, ok := e.Child[k]; ok {
			t.Errorf("child.%s present without being chosen", k)
		}
	}
	if _, ok := e.Participant["nickname"]; ok || e.Consent["arbiter"] != "Dr. Rivera" {
		t.Errorf("participant = %v, consent = %v", e.Participant, e.Consent)
	}
	var exp map[string]map[string]any
	if err := json.Unmarshal(e.ExpData, &exp); err != nil || exp["3-exit-survey"]["birthDate"] != "2023-04-20T04:00:00.000Z" {
		t.Errorf("exp_data not carried whole: %v %v", err, exp)
	}
	// Members keep their order: the nested objects, then exp_data last.
	order := []string{`"response": {`, `"consent": {`, `"study": {`, `"participant": {`, `"child": {`, `"exp_data": {`}
	at := 0
	for _, o := range order {
		i := strings.Index(text[at:], o)
		if i < 0 {
			t.Fatalf("%s missing or out of order", o)
		}
		at += i
	}
}
