package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestLabRoutesAnswerBadInputWithTheField(t *testing.T) {
	pool := pgtest.Pool(t)
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	r := role{name: "lab-creator", researcher: true, twoFactor: true}
	auth := credential(t, pool, newUser(t, pool, 0, r), r)
	call := func(method, path, body string) (int, map[string]any) {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		auth(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	good := `{"name":"HTTP Lab","institution":"U","principal_investigator_name":"PI","contact_email":"http-lab@example.org",
		"contact_phone":"555 0100","description":"d","irb_contact_info":"irb"}`
	code, lab := call("POST", "/api/labs", good)
	if code != http.StatusCreated || lab["approved_to_test"] != false || lab["my_role"] != "admin" {
		t.Fatalf("create: %d %v", code, lab)
	}
	for body, want := range map[string]struct {
		code    int
		pointer string
	}{
		strings.Replace(good, `"name":"HTTP Lab"`, `"name":""`, 1):                                            {400, "/name"},
		strings.Replace(good, `"http-lab@example.org"`, `"nope"`, 1):                                          {400, "/contact_email"},
		strings.Replace(good, `"contact_email":"http-lab@example.org"`, `"contact_email":"x@example.org"`, 1): {409, "/name"},
		`{"name": 5}`: {400, ""},
	} {
		code, out := call("POST", "/api/labs", body)
		if code != want.code || (want.pointer != "" && errorPointer(out) != want.pointer) {
			t.Errorf("%s: %d %v; want %d at %s", body, code, out, want.code, want.pointer)
		}
	}
	id := lab["id"].(string)
	if code, out := call("PUT", "/api/labs/"+id+"/members/"+id, `{"role":"owner"}`); code != 400 || errorPointer(out) != "/role" {
		t.Errorf("bad role: %d %v", code, out)
	}
	if code, _ := call("GET", "/api/labs/not-a-uuid", ""); code != http.StatusNotFound {
		t.Errorf("unknown lab: %d", code)
	}
	// The creator, as the only admin, cannot leave the lab without an admin.
	var me string
	_ = pool.QueryRow(context.Background(), `SELECT u.uuid::text FROM lab_members m JOIN users u ON u.id = m.user_id
		JOIN labs l ON l.id = m.lab_id WHERE l.uuid = $1`, id).Scan(&me)
	if code, out := call("DELETE", "/api/labs/"+id+"/members/"+me, ""); code != http.StatusConflict {
		t.Errorf("removing the last admin: %d %v", code, out)
	}
}

// Unapproved labs, with their contact details, are listed only to researchers who completed
// two-factor authentication; and callers who could never act on a study cannot tell an unknown
// one from a real one.
func TestWhatCallersWithoutStandingLearn(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	h := httpapi.New(newInstance(t, instance.Value(pool)))
	var labID int64
	var studyUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, contact_email) VALUES ('Unapproved Secret Lab', 'secret@lab.example.org') RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id) VALUES ('Probe', $1, 2) RETURNING uuid::text`, labID).Scan(&studyUUID); err != nil {
		t.Fatal(err)
	}
	get := func(r role, path string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		credential(t, pool, newUser(t, pool, 0, r), r)(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	no2fa := role{name: "probe-no2fa", researcher: true}
	if code, body := get(no2fa, "/api/labs"); code != 200 || strings.Contains(body, "Unapproved Secret Lab") {
		t.Errorf("researcher without 2FA lists unapproved labs: %d %s", code, body)
	}
	full := role{name: "probe-2fa", researcher: true, twoFactor: true}
	if code, body := get(full, "/api/labs"); code != 200 || !strings.Contains(body, "Unapproved Secret Lab") {
		t.Errorf("researcher with 2FA does not see unapproved labs: %d", code)
	}
	family := role{name: "probe-family"}
	for _, path := range []string{"/api/studies/" + studyUUID, "/api/studies/00000000-0000-4000-8000-000000000000", "/api/studies/nonsense"} {
		if code, _ := get(family, path); code != http.StatusForbidden {
			t.Errorf("family GET %s: %d, want 403 whether or not the study exists", path, code)
		}
	}
}
