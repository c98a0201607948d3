package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
)

// raw makes a request as who and returns the recorded response.
func (d *dataStudy) raw(who, method, path string, body any) *httptest.ResponseRecorder {
	d.t.Helper()
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req := httptest.NewRequest(method, path, &buf)
	req.Header.Set("Content-Type", "application/json")
	d.callers[who](req)
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	if rec.Code >= 500 {
		d.t.Errorf("%s %s by %s: %d %s", method, path, who, rec.Code, rec.Body.String())
	}
	return rec
}

// csvIDs returns the response__uuid column of a summary CSV.
func csvIDs(t *testing.T, body []byte) []string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	col := slices.Index(rows[0], "response__uuid")
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[col])
	}
	slices.Sort(out)
	return out
}

// Every view and download of a study's data, by the study groups that differ on it: preview data
// needs the preview permission (RP; CP for consent), real data the analysis permission (RR), and
// consent rulings and consent videos the consent permission (CC), as Lookit's permission table
// gives them to the groups (reference §3.1).
func TestPreviewDataPermissions(t *testing.T) {
	d := newDataStudy(t, authz.GroupPreview, authz.GroupAnalysis, authz.GroupSubmissionProcessor, authz.GroupDesign)
	real, _ := d.response(true, "accepted", 0, false, true)
	pendingReal, _ := d.response(true, "", 0, false, true)
	preview, _ := d.response(true, "accepted", 0, true, true)
	if _, err := d.pool.Exec(context.Background(), `INSERT INTO videos (s3_timestamp, frame_id, full_name, bucket, study_id, response_id, is_consent_footage)
		SELECT now(), '1-video-consent', 'consent-' || r.uuid || '.webm', 'recorder', r.study_id, r.id, true FROM responses r WHERE r.study_id = $1`, d.id); err != nil {
		t.Fatal(err)
	}
	base := "/api/studies/" + d.uuid

	type check struct {
		what, method, path string
		body               any
		allowed            []string // groups let through; the others must be refused (403)
	}
	real1 := []string{"analysis"}
	previewReaders := []string{"preview", "analysis", "submission_processor", "design"}
	consentCoders := []string{"submission_processor"}
	checks := []check{
		{"real responses", "GET", base + "/responses", nil, real1},
		{"preview responses", "GET", base + "/responses?preview=true", nil, previewReaders},
		{"one real response", "GET", "/api/responses/" + real, nil, real1},
		{"one preview response", "GET", "/api/responses/" + preview, nil, previewReaders},
		{"real summary CSV", "GET", base + "/downloads/summary_csv", nil, real1},
		{"preview summary CSV", "GET", base + "/downloads/summary_csv?preview=true", nil, previewReaders},
		{"real Psych-DS", "GET", base + "/downloads/psychds_zip", nil, real1},
		{"real export", "POST", base + "/exports", map[string]any{"kind": "download", "file": "responses_json"}, real1},
		{"preview export", "POST", base + "/exports", map[string]any{"kind": "download", "file": "responses_json", "preview": true}, previewReaders},
		{"archive of real videos", "POST", base + "/exports", map[string]any{"kind": "video_archive"}, real1},
		{"archive of real consent videos", "POST", base + "/exports", map[string]any{"kind": "video_archive", "consent_only": true}, consentCoders},
		{"archive of preview consent videos", "POST", base + "/exports", map[string]any{"kind": "video_archive", "consent_only": true, "preview": true}, previewReaders},
		{"real consent manager", "GET", base + "/consent", nil, consentCoders},
		{"preview consent manager", "GET", base + "/consent?preview=true", nil, previewReaders},
		{"real consent ruling", "POST", base + "/consent", map[string]any{"rulings": []any{map[string]any{"response_id": pendingReal, "action": "pending"}}}, consentCoders},
	}
	for _, c := range checks {
		for _, who := range []string{"preview", "analysis", "submission_processor", "design"} {
			rec := d.raw(who, c.method, c.path, c.body)
			allowed := slices.Contains(c.allowed, who)
			if allowed && rec.Code >= 300 {
				t.Errorf("%s by %s: %d %s, want it allowed", c.what, who, rec.Code, rec.Body.String())
			}
			if !allowed && rec.Code != http.StatusForbidden {
				t.Errorf("%s by %s: %d, want 403", c.what, who, rec.Code)
			}
		}
	}

	// What each download holds: consented real responses, or the preview ones, never both.
	rec := d.raw("analysis", "GET", base+"/downloads/summary_csv", nil)
	if got := csvIDs(t, rec.Body.Bytes()); !slices.Equal(got, []string{real}) {
		t.Errorf("real download holds %v, want only the consented real response %s", got, real)
	}
	if cd := rec.Header().Get("Content-Disposition"); cd != `attachment; filename=Data-study_all-responses.csv` {
		t.Errorf("Content-Disposition %q", cd)
	}
	rec = d.raw("preview", "GET", base+"/downloads/summary_csv?preview=true", nil)
	if got := csvIDs(t, rec.Body.Bytes()); !slices.Equal(got, []string{preview}) {
		t.Errorf("preview download holds %v, want only %s", got, preview)
	}
	// Each export is followed only by whoever asked for it, with the permission it needed.
	var consentExport appapi.Export
	if c := d.call("submission_processor", "POST", base+"/exports", map[string]any{"kind": "video_archive", "consent_only": true}, &consentExport); c != 202 {
		t.Fatalf("consent archive: %d", c)
	}
	if c := d.call("submission_processor", "GET", "/api/exports/"+consentExport.Id.String(), nil, nil); c != 200 {
		t.Errorf("the requester reads their export: %d", c)
	}
	if c := d.call("analysis", "GET", "/api/exports/"+consentExport.Id.String(), nil, nil); c != 404 {
		t.Errorf("another researcher reads the export: %d, want 404", c)
	}
}

// Downloads answer what a researcher would want to know when the request is wrong, and send large
// downloads to an export rather than running into the request's time limit.
func TestDownloadRequests(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher)
	d.response(true, "accepted", 0, false, true)
	d.response(true, "accepted", 0, false, true)
	base := "/api/studies/" + d.uuid
	for _, c := range []struct{ path, field string }{
		{"/downloads/everything", "/file"},
		{"/downloads/summary_csv?columns=child__name,favourite_colour", "/columns"},
		{"/downloads/summary_csv?response=not-a-uuid", "response"},
	} {
		rec := d.raw("researcher", "GET", base+c.path, nil)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"pointer":"`+c.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, rec.Code, rec.Body.String(), c.field)
		}
	}
	for _, body := range []map[string]any{{"kind": "download"}, {"kind": "everything"}, {"kind": "video_archive"}} {
		if rec := d.raw("researcher", "POST", base+"/exports", body); rec.Code != 400 {
			t.Errorf("export %v: %d %s, want 400", body, rec.Code, rec.Body.String())
		}
	}

	in := newInstance(t, instance.Value(d.pool))
	in.Config.DownloadStreamMax = 1
	d.h = httpapi.New(in)
	rec := d.raw("researcher", "GET", base+"/downloads/summary_csv", nil)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "export") {
		t.Errorf("2 responses over a limit of 1: %d %s, want 409 pointing to exports", rec.Code, rec.Body.String())
	}
	// Asking twice for the same export while it waits makes one export.
	var a, b appapi.Export
	d.call("researcher", "POST", base+"/exports", map[string]any{"kind": "download", "file": "summary_csv"}, &a)
	d.call("researcher", "POST", base+"/exports", map[string]any{"kind": "download", "file": "summary_csv"}, &b)
	if a.Id != b.Id || a.State != "queued" || a.FileName != "Data-study_all-responses.csv" {
		t.Errorf("two requests: %+v and %+v, want one queued export", a, b)
	}
	var list []appapi.Export
	d.call("researcher", "GET", base+"/exports", nil, &list)
	if len(list) != 1 || list[0].Id != a.Id {
		t.Errorf("the researcher's exports: %+v", list)
	}
}
