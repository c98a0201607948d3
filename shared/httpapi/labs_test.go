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
