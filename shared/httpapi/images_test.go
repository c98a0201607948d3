package httpapi_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/gcs"
	"lookit.dev/platform/shared/httpapi"
	"lookit.dev/platform/shared/instance"
	"lookit.dev/platform/shared/objects"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStudyImagesAreSquareStoredAndServed(t *testing.T) {
	pool := pgtest.Pool(t)
	ctx := context.Background()
	srv := fakestorage.NewServer(nil)
	t.Cleanup(srv.Stop)
	srv.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "experiments"})
	in := newInstance(t, instance.Value(pool))
	in.Experiments = instance.Value[objects.Store](&gcs.Bucket{Client: srv.Client(), Name: "experiments"})
	h := httpapi.New(in)

	var labID int64
	var studyUUID string
	if err := pool.QueryRow(ctx, `INSERT INTO labs (name, approved_to_test) VALUES ('Image Lab', true) RETURNING id`).Scan(&labID); err != nil {
		t.Fatal(err)
	}
	r := role{name: "image-admin", researcher: true, twoFactor: true, lab: authz.LabAdmin}
	auth := credential(t, pool, newUser(t, pool, labID, r), r)
	if err := pool.QueryRow(ctx, `INSERT INTO studies (name, lab_id, study_type_id, state) VALUES ('Image study', $1, 2, 'active') RETURNING uuid::text`, labID).Scan(&studyUUID); err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, body []byte, withAuth bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "image/png")
		if withAuth {
			auth(req)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	img := "/api/studies/" + studyUUID + "/image"
	for name, c := range map[string]struct {
		body []byte
		code int
	}{
		"not square":   {pngOf(t, 8, 6), 400},
		"not an image": {[]byte("GIF89a not really"), 400},
		"too large":    {bytes.Repeat([]byte{0}, 1<<20+10), 413},
	} {
		if rec := call("PUT", img, c.body, true); rec.Code != c.code || (c.code == 400 && !strings.Contains(rec.Body.String(), `"/image"`)) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if rec := call("GET", "/api/public/studies/"+studyUUID+"/image", nil, false); rec.Code != http.StatusNotFound {
		t.Errorf("before any image: %d", rec.Code)
	}
	square := pngOf(t, 16, 16)
	if rec := call("PUT", img, square, true); rec.Code != http.StatusNoContent {
		t.Fatalf("upload: %d %s", rec.Code, rec.Body)
	}
	get := func(path string, withAuth bool) {
		t.Helper()
		rec := call("GET", path, nil, withAuth)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || !bytes.Equal(rec.Body.Bytes(), square) {
			t.Errorf("GET %s: %d %s, %d bytes", path, rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len())
		}
	}
	get(img, true)
	// The image is a monitored field: the active study went back to rejected, and so is no longer
	// shown to families.
	var state string
	_ = pool.QueryRow(ctx, `SELECT state FROM studies WHERE uuid = $1`, studyUUID).Scan(&state)
	if state != "rejected" {
		t.Errorf("after changing an active study's image: %s", state)
	}
	if rec := call("GET", "/api/public/studies/"+studyUUID+"/image", nil, false); rec.Code != http.StatusNotFound {
		t.Errorf("public image of a study no longer active: %d", rec.Code)
	}
	if _, err := pool.Exec(ctx, `UPDATE studies SET state = 'active' WHERE uuid = $1`, studyUUID); err != nil {
		t.Fatal(err)
	}
	get("/api/public/studies/"+studyUUID+"/image", false)
}
