package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lookit.dev/platform/shared/config"
	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres/pgtest"
	"lookit.dev/platform/shared/s3"
	"lookit.dev/platform/shared/totp"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// .env.example documents every variable, and its values are the ones make run uses.
func TestEnvExampleMatchesConfigAndLocalDefaults(t *testing.T) {
	f, err := os.Open("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	documented := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		line = strings.TrimPrefix(line, "# ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" || strings.ContainsAny(k, " #") || strings.ToUpper(k) != k {
			continue
		}
		documented[k] = v
	}
	ct := reflect.TypeOf(config.Config{})
	for i := 0; i < ct.NumField(); i++ {
		name := ct.Field(i).Tag.Get("env")
		if _, ok := documented[name]; !ok {
			t.Errorf(".env.example does not document %s", name)
		}
	}
	for k, v := range localDefaults {
		if documented[k] != v {
			t.Errorf(".env.example has %s=%q, make run uses %q", k, documented[k], v)
		}
	}
}

func buildDevserver(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "devserver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func TestBadConfigurationExitsNamingTheVariable(t *testing.T) {
	bin := buildDevserver(t)
	for _, c := range []struct{ env, name string }{
		{"PORT=eighty", "PORT"},
		{"BASE_URL=not a url", "BASE_URL"},
		{"DB_MAX_CONNS=0", "DB_MAX_CONNS"},
	} {
		cmd := exec.Command(bin, "serve")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), c.env}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errorsAs(err, &ee) || ee.ExitCode() == 0 {
			t.Fatalf("%s: exit %v, want non-zero", c.env, err)
		}
		if !strings.Contains(string(out), c.name) {
			t.Fatalf("%s: message %q does not name %s", c.env, out, c.name)
		}
	}
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// lockedBuffer collects the output of a running process while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// make run on a fresh checkout: no environment, a local PostgreSQL cluster under .local/, demo
// data, health, the mail sink and Pub/Sub delivery; Ctrl-C stops everything it started.
func TestMakeRunFromNothingAndCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster")
	}
	dist, sha := runnerDist(t)
	out := runPlatform(t, []string{"FRAMEPLAYER_DIST=" + dist, "FRAMEPLAYER_SHA=" + sha}, true)
	if !strings.Contains(out, "Runner       "+dist) {
		t.Errorf("banner does not show the runner build:\n%s", out)
	}
}

// runnerDist is a built runner's dist/ folder (index.html shaped like the real one) and its commit.
func runnerDist(t *testing.T) (string, string) {
	const sha = "9e8b47f6d1c2a3b4c5d6e7f8091a2b3c4d5e6f70" // the commit testdata/index.html was "built" for
	dist := t.TempDir()
	index, err := os.ReadFile("../../shared/runner/testdata/index.html")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dist, "assets"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"index.html": index, "assets/vendor-0123456789abcdef.js": []byte("var vendor;")} {
		if err := os.WriteFile(filepath.Join(dist, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dist, sha
}

// demoParent logs in as the demo parent and returns the session's client, the parent's first
// child and the demo frameplayer study.
func demoParent(t *testing.T, base string) (c *http.Client, child, study string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c = &http.Client{Jar: jar}
	resp, err := c.Post(base+"/api/auth/login", "application/json",
		strings.NewReader(`{"email":"parent@example.org","password":"lookit-demo-password"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("log in: %v %v", err, resp)
	}
	resp.Body.Close()
	list := func(path string) []struct {
		ID         string
		Attributes map[string]any
	} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			Data []struct {
				ID         string
				Attributes map[string]any
			}
		}
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Data) == 0 {
			t.Fatalf("%s: %v %+v", path, err, doc)
		}
		return doc.Data
	}
	child = list("/api/v1/children/")[0].ID
	for _, s := range list("/api/v1/studies/?page_size=50") {
		if s.Attributes["name"] == "Demo frameplayer study" {
			study = s.ID
		}
	}
	return c, child, study
}

// checkRunner takes the demo parent to the demo frameplayer study's page: the registered build's
// index.html, configured, and its assets.
func checkRunner(t *testing.T, base, sha string) {
	t.Helper()
	c, child, study := demoParent(t, base)
	resp, err := c.Get(base + "/studies/" + study + "/" + child + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "%22bucket%22%3A%22lookit-videos%22") {
		t.Fatalf("the demo frameplayer study's page: %d\n%s", resp.StatusCode, page)
	}
	resp, err = http.Get(base + "/frameplayer/" + sha + "/assets/vendor-0123456789abcdef.js")
	if err != nil {
		t.Fatal(err)
	}
	asset, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(asset) != "var vendor;\n" && string(asset) != "var vendor;" {
		t.Fatalf("runner asset: %d %q", resp.StatusCode, asset)
	}
}

// checkPipeWebhook is the Pipe webhook against the running platform, as a lab would try it: the
// demo parent starts a session, Pipe puts the recording in the local Pipe bucket and calls the
// webhook signed with .env.example's key; the recording is renamed and filed, and the same call
// again answers 200 without a second row.
func checkPipeWebhook(t *testing.T, base, banner string) {
	t.Helper()
	c, child, study := demoParent(t, base)
	u, _ := url.Parse(base)
	var csrf string
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "csrftoken" {
			csrf = k.Value
		}
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/responses/", strings.NewReader(`{"data":{"type":"responses","attributes":{},"relationships":{"child":{"data":{"type":"children","id":"`+
		child+`"}},"study":{"data":{"type":"studies","id":"`+study+`"}}}}}`))
	req.Header.Set("Content-Type", "application/vnd.api+json")
	req.Header.Set("X-CSRFToken", csrf)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ Data struct{ ID string } }
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != 201 {
		t.Fatalf("start a session: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()

	endpoint := regexp.MustCompile(`S3 +(http://\S+)`).FindStringSubmatch(banner)
	if endpoint == nil {
		t.Fatalf("banner names no S3 endpoint:\n%s", banner)
	}
	ctx := context.Background()
	s3c, err := s3.NewClient(ctx, s3.Options{Region: "us-east-1", Endpoint: endpoint[1], AccessKey: "local", SecretKey: "local"})
	if err != nil {
		t.Fatal(err)
	}
	bucket := &s3.Bucket{Client: s3c, Name: localDefaultsEnv(t)["S3_PIPE_BUCKET"]}
	for _, k := range []string{"vs_devserver_1.mp4", "vs_devserver_1.jpg"} {
		if err := bucket.Put(ctx, k, strings.NewReader("a recording"), "video/mp4"); err != nil {
			t.Fatal(err)
		}
	}
	name := "videoStream_" + study + "_0-video-consent_" + created.Data.ID + "_1795425978688_123"
	payload := `{"version":"1.0","event":"video_copied_s3","data":{"s3UploadStatus":"upload success","videoName":"vs_devserver_1","type":"MP4","size":11,"id":"1","payload":"consent-` + name + `"}}`
	key := localDefaultsEnv(t)["PIPE_WEBHOOK_KEY"]
	for i, wantCreated := range []bool{true, false} {
		req, _ := http.NewRequest("POST", base+"/exp/renamevideo/", strings.NewReader(url.Values{"payload": {payload}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Pipe-Signature", pipe.Sign(key, base+"/exp/renamevideo/", payload))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var answer struct {
			Created  bool   `json:"created"`
			FullName string `json:"full_name"`
		}
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || answer.Created != wantCreated || answer.FullName != name+".mp4" {
			t.Fatalf("webhook call %d: %d %+v %v; want 200, created %v", i+1, resp.StatusCode, answer, err, wantCreated)
		}
	}
	for key, want := range map[string]bool{"vs_devserver_1.mp4": false, "vs_devserver_1.jpg": false, name + ".mp4": true} {
		if ok, err := bucket.Exists(ctx, key); err != nil || ok != want {
			t.Errorf("%s in the Pipe bucket: %v %v, want %v", key, ok, err, want)
		}
	}
}

// checkTransitionMail is a study transition through the running platform: the demo researcher
// logs in with the demo TOTP secret, pauses the demo external study and starts it again, and the
// site admins' notices of both reach the mail sink.
func checkTransitionMail(t *testing.T, base string) {
	t.Helper()
	env := localDefaultsEnv(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	u, _ := url.Parse(base)
	call := func(method, path, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for _, k := range jar.Cookies(u) {
			if k.Name == "csrftoken" {
				req.Header.Set("X-CSRFToken", k.Value)
			}
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 && resp.StatusCode != 204 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	call("POST", "/api/auth/login", `{"email":"researcher@example.org","password":"`+env["DEMO_PASSWORD"]+`"}`)
	code, err := totp.Code(env["DEMO_TOTP_SECRET"], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	call("POST", "/api/auth/2fa", `{"code":"`+code+`"}`)
	var list []struct{ ID, Name string }
	if err := json.Unmarshal(call("GET", "/api/studies", ""), &list); err != nil {
		t.Fatal(err)
	}
	var study string
	for _, s := range list {
		if s.Name == "Demo external study" {
			study = s.ID
		}
	}
	call("POST", "/api/studies/"+study+"/transitions", `{"trigger":"pause"}`)
	call("POST", "/api/studies/"+study+"/transitions", `{"trigger":"activate"}`)
	deadline := time.Now().Add(20 * time.Second)
	for {
		b := call("GET", "/_dev/mail", "")
		if strings.Contains(string(b), "Study Pause Notification: Demo external study") &&
			strings.Contains(string(b), "Study Activation Notification: Demo external study") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transitions' notices did not reach the mail sink: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// localDefaultsEnv is .env.example's values.
func localDefaultsEnv(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			env[k] = v
		}
	}
	return env
}

// The same platform with Google's Pub/Sub emulator and an existing database instead of the
// embedded stand-ins, as the environment variables select.
func TestMakeRunOnTheEmulatorAndAGivenDatabase(t *testing.T) {
	host := os.Getenv("PUBSUB_EMULATOR_HOST")
	if host == "" {
		t.Fatal("PUBSUB_EMULATOR_HOST is not set: run the tests with `make test`")
	}
	out := runPlatform(t, []string{"PUBSUB_EMULATOR_HOST=" + host, "DATABASE_URL=" + pgtest.URL(t), "GOOGLE_CLOUD_PROJECT=devserver-test"}, false)
	if !strings.Contains(out, "emulator at "+host) {
		t.Fatalf("banner does not show the emulator:\n%s", out)
	}
}

// runPlatform starts the dev server with env, checks health, demo data, mail delivery through
// Pub/Sub and Ctrl-C, and returns its output. localCluster says whether it should have started its
// own PostgreSQL.
func runPlatform(t *testing.T, env []string, localCluster bool) string {
	bin := buildDevserver(t)
	work := t.TempDir()
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	var out lockedBuffer
	cmd := exec.Command(bin)
	cmd.Dir = work
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), fmt.Sprintf("PORT=%d", port), "HOME=" + work}, env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("devserver output:\n%s", out.String())
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz not 200 within 30s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, e := range env {
		if sha, ok := strings.CutPrefix(e, "FRAMEPLAYER_SHA="); ok {
			checkRunner(t, base, sha)
		}
	}
	checkPipeWebhook(t, base, out.String())
	var pidFile, pgPID string
	if localCluster {
		pidFile, pgPID = findCluster(t, work, &out)
	}

	// An email published (or, as root under a private parent directory, in a
	// per-checkout temp directory); the banner names it.

	// An email published on the topic is delivered by SendEmail to the mail sink.
	body := `{"id":"7d4c2f0e-0c1a-4d8e-8f3b-2a9d6e5c4b31","kind":"test","to":["parent@example.org"],"subject":"Local","text":"Hello"}`
	resp, err := http.Post(base+"/_dev/publish/email-send", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("publish: %v %v", err, resp)
	}
	resp.Body.Close()
	for {
		resp, err := http.Get(base + "/_dev/mail")
		if err != nil {
			t.Fatal(err)
		}
		var msgs []struct{ Subject string }
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(b, &msgs); err != nil {
			t.Fatalf("/_dev/mail: %v: %s", err, b)
		}
		if len(msgs) == 1 && msgs[0].Subject == "Local" {
			break
		}
		if time.Now().After(deadline.Add(15 * time.Second)) {
			t.Fatalf("mail sink has %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}

	checkTransitionMail(t, base)

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("devserver exited with %v after Ctrl-C", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("devserver still running 30s after Ctrl-C")
	}
	if localCluster {
		var p int
		fmt.Sscan(pgPID, &p)
		if err := syscall.Kill(p, 0); err == nil {
			t.Fatalf("PostgreSQL (pid %d) still running after Ctrl-C", p)
		}
		if _, err := os.Stat(pidFile); err == nil {
			t.Fatal("PostgreSQL did not shut down cleanly (postmaster.pid left behind)")
		}
	}
	return out.String()
}

// findCluster returns the postmaster.pid file and pid of the cluster the dev server started.
func findCluster(t *testing.T, work string, out *lockedBuffer) (string, string) {
	t.Helper()
	pidFile := filepath.Join(work, ".local/postgres/data/postmaster.pid")
	if _, err := os.Stat(pidFile); err != nil {
		matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "lookit-postgres-*", "data", "postmaster.pid"))
		for _, m := range matches {
			if strings.Contains(out.String(), filepath.Dir(filepath.Dir(m))) {
				pidFile = m
			}
		}
	}
	if !strings.HasPrefix(pidFile, work) {
		t.Cleanup(func() { os.RemoveAll(filepath.Dir(filepath.Dir(pidFile))) })
	}
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("no PostgreSQL cluster under .local/: %v", err)
	}
	pgPID := strings.SplitN(string(pid), "\n", 2)[0]
	return pidFile, pgPID
}
