package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"lookit.dev/platform/shared/accounts"
	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

// familyClient logs in a new family account and returns its browser.
func familyClient(t *testing.T, pool *pgxpool.Pool, h http.Handler, email string) *client {
	t.Helper()
	hash, _ := passwordHash(t)
	if _, err := pool.Exec(context.Background(), `INSERT INTO users (email, password_hash) VALUES ($1, $2)`, email, hash); err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, h: h, cookies: map[string]string{}}
	if code, body := c.do("POST", "/api/auth/login", `{"email":"`+email+`","password":"login target password"}`); code != 200 {
		t.Fatalf("log-in: %d %v", code, body)
	}
	return c
}

// list calls a route answering a JSON array.
func (c *client) list(path string) []map[string]any {
	c.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	var out []map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); rec.Code != 200 || err != nil {
		c.t.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
	}
	return out
}

func errorPointer(body map[string]any) string {
	errs, _ := body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	e, _ := errs[0].(map[string]any)
	src, _ := e["source"].(map[string]any)
	p, _ := src["pointer"].(string)
	return p
}

func TestFamilyManagesChildrenAndOnlyItsOwn(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	fam := familyClient(t, pool, h, "kids-parent@example.org")
	other := familyClient(t, pool, h, "kids-other@example.org")

	code, child := fam.do("POST", "/api/children", `{"given_name":"Ada","birthday":"2024-01-02","gender":"f",
		"gestational_age_at_birth":17,"existing_conditions":["deaf"],"languages_spoken":["en","fr"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, child)
	}
	if child["age_at_birth"] != "40 or more weeks" || child["language_list"] != "en fr" || child["condition_list"] != "deaf" {
		t.Errorf("created child as Lookit shows it: %v", child)
	}
	id := child["id"].(string)

	// Bad input names the field, and nothing is stored.
	for body, pointer := range map[string]string{
		`{"given_name":"","birthday":"2024-01-02","gender":"f"}`:                                 "/given_name",
		`{"given_name":"B","birthday":"2999-01-02","gender":"f"}`:                                "/birthday",
		`{"given_name":"B","birthday":"2024-01-02","gender":"x"}`:                                "/gender",
		`{"given_name":"B","birthday":"2024-01-02","gender":"f","languages_spoken":["xx"]}`:      "/languages_spoken",
		`{"given_name":"B","birthday":"2024-01-02","gender":"f","gestational_age_at_birth":18}`:  "/gestational_age_at_birth",
		`{"given_name":"` + strings.Repeat("n", 256) + `","birthday":"2024-01-02","gender":"f"}`: "/given_name",
		`{"given_name":"B","birthday":"2024-13-02","gender":"f"}`:                                "/birthday",
		`{"given_name":"B","birthday":20240102,"gender":"f"}`:                                    "/birthday",
	} {
		code, out := fam.do("POST", "/api/children", body)
		if code != http.StatusBadRequest || !strings.HasPrefix(errorPointer(out), pointer) {
			t.Errorf("%s: %d %v; want 400 at %s", body, code, out, pointer)
		}
	}
	// A megabyte name is refused before it is read (the app API caps bodies at 64 KiB).
	if code, out := fam.do("POST", "/api/children", `{"given_name":"`+strings.Repeat("n", 1<<20)+`","birthday":"2024-01-02","gender":"f"}`); code != http.StatusRequestEntityTooLarge || out["errors"] == nil {
		t.Errorf("1 MB name: %d %v", code, out)
	}
	if got := fam.list("/api/children"); len(got) != 1 {
		t.Fatalf("children after bad input: %v", got)
	}

	// Another family cannot read, change or delete the child (Lookit's child update view let it).
	for _, m := range []string{"GET", "PUT", "DELETE"} {
		body := ""
		if m == "PUT" {
			body = `{"given_name":"Mallory","gender":"m"}`
		}
		if code, _ := other.do(m, "/api/children/"+id, body); code != http.StatusForbidden {
			t.Errorf("other family %s: %d, want 403", m, code)
		}
	}
	if got := other.list("/api/children"); len(got) != 0 {
		t.Errorf("other family lists %v", got)
	}

	// The birthday never changes; other fields do.
	code, upd := fam.do("PUT", "/api/children/"+id, `{"given_name":"Ada L.","gender":"f","birthday":"2020-01-01"}`)
	if code != http.StatusBadRequest || errorPointer(upd) != "/birthday" {
		t.Errorf("changing the birthday: %d %v", code, upd)
	}
	code, upd = fam.do("PUT", "/api/children/"+id, `{"given_name":"Ada L.","gender":"f","languages_spoken":["de"]}`)
	if code != 200 || upd["given_name"] != "Ada L." || upd["birthday"] != "2024-01-02" || upd["language_list"] != "de" {
		t.Errorf("update: %d %v", code, upd)
	}

	// Deleting hides the child but keeps the row for past sessions.
	if code, _ := fam.do("DELETE", "/api/children/"+id, ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if got := fam.list("/api/children"); len(got) != 0 {
		t.Errorf("children after delete: %v", got)
	}
	if code, _ := fam.do("GET", "/api/children/"+id, ""); code != http.StatusNotFound {
		t.Errorf("deleted child: %d", code)
	}
	var rows int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM children WHERE uuid = $1 AND deleted`, id).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("soft-deleted row: %d %v", rows, err)
	}
}

func TestDemographicsAreVersionedAndPreferencesStick(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	fam := familyClient(t, pool, h, "demo-parent@example.org")

	if code, _ := fam.do("GET", "/api/demographics", ""); code != http.StatusNotFound {
		t.Errorf("before any survey: %d", code)
	}
	if code, out := fam.do("POST", "/api/demographics", `{"country":"ZZZ"}`); code != http.StatusBadRequest || errorPointer(out) != "/country" {
		t.Errorf("bad country: %d %v", code, out)
	}
	code, first := fam.do("POST", "/api/demographics", `{"country":"US","state":"MA","number_of_children":"2","child_birthdays":["2021-03-04"],"us_race_ethnicity_identification":["white","asian"]}`)
	if code != http.StatusCreated {
		t.Fatalf("first save: %d %v", code, first)
	}
	code, second := fam.do("POST", "/api/demographics", `{"country":"CA","number_of_children":"3"}`)
	if code != http.StatusCreated || second["id"] == first["id"] {
		t.Fatalf("second save: %d %v", code, second)
	}
	code, latest := fam.do("GET", "/api/demographics", "")
	if code != 200 || latest["country"] != "CA" || latest["id"] != second["id"] {
		t.Errorf("latest: %d %v", code, latest)
	}
	var versions int
	var previous bool
	if err := pool.QueryRow(context.Background(), `SELECT count(*), bool_or(previous_id IS NOT NULL) FROM demographic_data d
		JOIN users u ON u.id = d.user_id WHERE u.email = 'demo-parent@example.org'`).Scan(&versions, &previous); err != nil || versions != 2 || !previous {
		t.Errorf("versions %d, chained %v, %v", versions, previous, err)
	}

	if code, _ := fam.do("PUT", "/api/me/email-preferences", `{"email_next_session":false,"email_new_studies":true,"email_study_updates":false,"email_response_questions":true}`); code != 200 {
		t.Fatalf("preferences: %d", code)
	}
	_, me := fam.do("GET", "/api/me", "")
	prefs, _ := me["email_preferences"].(map[string]any)
	if prefs["email_next_session"] != false || prefs["email_new_studies"] != true || prefs["email_study_updates"] != false {
		t.Errorf("preferences after save: %v", me)
	}
}

func TestOneClickUnsubscribeWorksWithoutASession(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	fam := familyClient(t, pool, h, "unsub-parent@example.org")
	neighbour := familyClient(t, pool, h, "unsub-neighbour@example.org")
	_, me := fam.do("GET", "/api/me", "")
	id := uuid.MustParse(me["id"].(string))
	key := []byte(config.LocalSecretKey)

	post := func(token string) (int, map[string]any) {
		// What a mail client sends (RFC 8058): a form, no cookies.
		req := httptest.NewRequest("POST", "/api/unsubscribe/"+token, strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	for _, bad := range []string{"not-a-token", accounts.UnsubscribeToken([]byte("some other key of at least 32 chars"), id),
		accounts.UnsubscribeToken(key, uuid.New())} {
		if code, out := post(bad); code != http.StatusBadRequest || errorPointer(out) != "/token" {
			t.Errorf("token %q: %d %v", bad, code, out)
		}
	}
	for range 2 { // a second click changes nothing and still succeeds
		if code, out := post(accounts.UnsubscribeToken(key, id)); code != 200 || out["status"] != "unsubscribed" {
			t.Fatalf("unsubscribe: %d %v", code, out)
		}
	}
	_, me = fam.do("GET", "/api/me", "")
	if prefs := me["email_preferences"].(map[string]any); prefs["email_new_studies"] != false || prefs["email_next_session"] != false ||
		prefs["email_study_updates"] != false || prefs["email_response_questions"] != false {
		t.Errorf("after unsubscribe: %v", prefs)
	}
	_, other := neighbour.do("GET", "/api/me", "")
	if prefs := other["email_preferences"].(map[string]any); prefs["email_new_studies"] != true {
		t.Errorf("the neighbour was unsubscribed too: %v", prefs)
	}
}
