package pipe_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"lookit.dev/platform/shared/pipe"
	"lookit.dev/platform/shared/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const (
	studyUUID    = "0f6b3c1e-8a2d-4c57-9e3b-2d1f0a9b7c66"
	responseUUID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
	webhookURL   = "https://lookit.example.org/exp/renamevideo/"
)

// recordingName is a name the frameplayer gives Pipe.
func recordingName(frame string) string {
	return "videoStream_" + studyUUID + "_" + frame + "_" + responseUUID + "_1700000000123_abc123"
}

// eventJSON builds a webhook payload the way Pipe sends it, with the fields a test overrides.
func eventJSON(t testing.TB, status, videoName, typ, name string) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"version": "1.0",
		"event":   "video_copied_s3",
		"data": map[string]any{
			"s3UploadStatus": status,
			"videoName":      videoName,
			"type":           typ,
			"size":           493002,
			"id":             123456,
			"bucket":         "lookit-pipe",
			"region":         "us-east-1",
			"payload":        name,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSignKnownVector(t *testing.T) {
	// The well-known HMAC-SHA1 test vector: key "key", message "The quick brown fox jumps over the
	// lazy dog". Pipe signs webhookURL followed by the payload, so the message is split between them.
	raw, _ := hex.DecodeString("de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9")
	want := base64.StdEncoding.EncodeToString(raw)
	if got := pipe.Sign("key", "The quick brown fox ", "jumps over the lazy dog"); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

func TestSignMatchesHMACOfURLAndPayload(t *testing.T) {
	key := "s3cr3t-webhook-key"
	payload := eventJSON(t, "upload success", "vs1457_abc", "MP4", recordingName("5-video-consent"))
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(webhookURL + payload))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))

	if got := pipe.Sign(key, webhookURL, payload); got != want {
		t.Fatalf("Sign = %q, want base64(HMAC-SHA1(key, url+payload)) = %q", got, want)
	}
	if !pipe.Verify(key, webhookURL, payload, want) {
		t.Fatal("Verify rejected the correct signature")
	}
}

func TestVerify(t *testing.T) {
	key := "s3cr3t-webhook-key"
	payload := eventJSON(t, "upload success", "vs1457_abc", "MP4", recordingName("5-video-consent"))
	sig := pipe.Sign(key, webhookURL, payload)

	// A header value with surrounding white space is still the signature.
	if !pipe.Verify(key, webhookURL, payload, " "+sig+"\n") {
		t.Error("Verify rejected the signature with surrounding white space")
	}

	flipped := []byte(sig)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	cases := []struct {
		name                  string
		key, url, payload, sg string
	}{
		{"tampered payload", key, webhookURL, strings.Replace(payload, "vs1457_abc", "vs1457_abd", 1), sig},
		{"payload with appended byte", key, webhookURL, payload + " ", sig},
		{"other URL", key, "https://lookit.example.org/exp/renamevideo", payload, sig},
		{"other key", key + "x", webhookURL, payload, sig},
		{"tampered signature", key, webhookURL, payload, string(flipped)},
		{"truncated signature", key, webhookURL, payload, sig[:len(sig)-1]},
		{"empty signature", key, webhookURL, payload, ""},
		{"hex instead of base64", key, webhookURL, payload, hexSig(key, webhookURL+payload)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if pipe.Verify(c.key, c.url, c.payload, c.sg) {
				t.Fatal("Verify accepted a signature that does not match")
			}
		})
	}
}

func hexSig(key, msg string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

func TestParseEvent(t *testing.T) {
	payload := eventJSON(t, "upload success", "vs1457_abc", "MP4", recordingName("5-video-consent"))
	ev, n, err := pipe.ParseEvent(payload)
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	if ev.Version != "1.0" || ev.Event != "video_copied_s3" {
		t.Errorf("version/event = %q/%q", ev.Version, ev.Event)
	}
	d := ev.Data
	if d.VideoName != "vs1457_abc" || d.Type != "MP4" || d.Size != 493002 || d.ID.String() != "123456" ||
		d.Bucket != "lookit-pipe" || d.Region != "us-east-1" || d.Payload != recordingName("5-video-consent") {
		t.Errorf("data = %+v", d)
	}
	want := pipe.Name{Base: recordingName("5-video-consent"), StudyID: studyUUID, FrameID: "5-video-consent", ResponseID: responseUUID, TimestampMS: 1700000000123, Random: "abc123"}
	if n != want {
		t.Errorf("name = %+v, want %+v", n, want)
	}
}

func TestParseEventAcceptsEachTypeInAnyCase(t *testing.T) {
	for _, typ := range []string{"MP4", "mp4", "WEBM", "webm", "WebM", "MOV", "mov"} {
		if _, _, err := pipe.ParseEvent(eventJSON(t, "upload success", "vs1", typ, recordingName("f"))); err != nil {
			t.Errorf("type %q: %v", typ, err)
		}
	}
}

func TestParseEventIDAsString(t *testing.T) {
	// Pipe has sent the id both as a number and as a string of digits.
	payload := `{"version":"1.0","event":"video_copied_s3","data":{"s3UploadStatus":"upload success",` +
		`"videoName":"vs1","type":"webm","id":"987","payload":"` + recordingName("f") + `"}}`
	ev, _, err := pipe.ParseEvent(payload)
	if err != nil {
		t.Fatalf("ParseEvent: %v", err)
	}
	if ev.Data.ID.String() != "987" {
		t.Fatalf("id = %q", ev.Data.ID)
	}
}

func TestParseEventUnsuccessful(t *testing.T) {
	for _, status := range []string{"upload failed", "", "Upload Success", "upload success "} {
		payload := eventJSON(t, status, "vs1", "MP4", recordingName("f"))
		ev, n, err := pipe.ParseEvent(payload)
		if !errors.Is(err, pipe.ErrUnsuccessful) {
			t.Errorf("status %q: err = %v, want ErrUnsuccessful", status, err)
		}
		if ev != nil || n != (pipe.Name{}) {
			t.Errorf("status %q: returned %v, %+v with the error", status, ev, n)
		}
	}
	// A payload without the status at all did not report a finished upload either.
	if _, _, err := pipe.ParseEvent(`{"version":"1.0","data":{"videoName":"vs1"}}`); !errors.Is(err, pipe.ErrUnsuccessful) {
		t.Errorf("no status: err = %v, want ErrUnsuccessful", err)
	}
}

func TestParseEventRejects(t *testing.T) {
	cases := []struct {
		name, payload string
	}{
		{"not JSON", "payload=abc"},
		{"trailing value", eventJSON(t, "upload success", "vs1", "MP4", recordingName("f")) + `{}`},
		{"trailing garbage", eventJSON(t, "upload success", "vs1", "MP4", recordingName("f")) + " x"},
		{"invalid UTF-8", strings.Replace(eventJSON(t, "upload success", "vs1", "MP4", recordingName("f")), `"1.0"`, "\"1.0\xff\"", 1)},
		{"empty", ""},
		{"JSON array", `[1,2]`},
		{"data not an object", `{"data":"x"}`},
		{"size not a number", `{"data":{"s3UploadStatus":"upload success","size":"big"}}`},
		{"missing video name", eventJSON(t, "upload success", "", "MP4", recordingName("f"))},
		{"video name with slash", eventJSON(t, "upload success", "../vs1", "MP4", recordingName("f"))},
		{"video name with space", eventJSON(t, "upload success", "vs 1", "MP4", recordingName("f"))},
		{"video name too long", eventJSON(t, "upload success", strings.Repeat("v", 101), "MP4", recordingName("f"))},
		{"bad type", eventJSON(t, "upload success", "vs1", "AVI", recordingName("f"))},
		{"missing type", eventJSON(t, "upload success", "vs1", "", recordingName("f"))},
		{"bad recording name", eventJSON(t, "upload success", "vs1", "MP4", "videoStream_x")},
		{"missing recording name", eventJSON(t, "upload success", "vs1", "MP4", "")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, n, err := pipe.ParseEvent(c.payload)
			if err == nil {
				t.Fatalf("ParseEvent accepted %q: %+v %+v", c.payload, ev, n)
			}
			if errors.Is(err, pipe.ErrUnsuccessful) {
				t.Fatalf("err = %v; a malformed successful event is not ErrUnsuccessful", err)
			}
			if ev != nil {
				t.Fatalf("returned an event with the error %v", err)
			}
		})
	}
}

func TestParseEventAllowsTrailingWhiteSpace(t *testing.T) {
	if _, _, err := pipe.ParseEvent(eventJSON(t, "upload success", "vs1", "MP4", recordingName("f")) + "\r\n "); err != nil {
		t.Fatalf("payload with trailing white space: %v", err)
	}
}

func TestParseEventVideoNameAtLimit(t *testing.T) {
	if _, _, err := pipe.ParseEvent(eventJSON(t, "upload success", strings.Repeat("v", 100), "MP4", recordingName("f"))); err != nil {
		t.Fatalf("100-character video name: %v", err)
	}
}

func TestParseName(t *testing.T) {
	upperStudy, upperResp := strings.ToUpper(studyUUID), strings.ToUpper(responseUUID)
	cases := []struct {
		name string
		in   string
		want pipe.Name
	}{
		{"plain", recordingName("5-video-consent"),
			pipe.Name{Base: recordingName("5-video-consent"), StudyID: studyUUID, FrameID: "5-video-consent", ResponseID: responseUUID, TimestampMS: 1700000000123, Random: "abc123"}},
		{"consent prefix", "consent-" + recordingName("1-consent"),
			pipe.Name{Base: recordingName("1-consent"), Consent: true, StudyID: studyUUID, FrameID: "1-consent", ResponseID: responseUUID, TimestampMS: 1700000000123, Random: "abc123"}},
		{"upper-case UUIDs are lowered", "videoStream_" + upperStudy + "_f-1_" + upperResp + "_42_R",
			pipe.Name{Base: "videoStream_" + upperStudy + "_f-1_" + upperResp + "_42_R", StudyID: studyUUID, FrameID: "f-1", ResponseID: responseUUID, TimestampMS: 42, Random: "R"}},
		{"frame id case kept", "videoStream_" + studyUUID + "_Frame.X_" + responseUUID + "_0_r",
			pipe.Name{Base: "videoStream_" + studyUUID + "_Frame.X_" + responseUUID + "_0_r", StudyID: studyUUID, FrameID: "Frame.X", ResponseID: responseUUID, TimestampMS: 0, Random: "r"}},
		{"15-digit timestamp", "videoStream_" + studyUUID + "_f_" + responseUUID + "_999999999999999_r",
			pipe.Name{Base: "videoStream_" + studyUUID + "_f_" + responseUUID + "_999999999999999_r", StudyID: studyUUID, FrameID: "f", ResponseID: responseUUID, TimestampMS: 999999999999999, Random: "r"}},
		{"200-character frame id", recordingName(strings.Repeat("f", 200)),
			pipe.Name{Base: recordingName(strings.Repeat("f", 200)), StudyID: studyUUID, FrameID: strings.Repeat("f", 200), ResponseID: responseUUID, TimestampMS: 1700000000123, Random: "abc123"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := pipe.ParseName(c.in)
			if err != nil {
				t.Fatalf("ParseName(%q): %v", c.in, err)
			}
			if got != c.want {
				t.Fatalf("ParseName(%q) = %+v, want %+v", c.in, got, c.want)
			}
		})
	}
}

func TestParseNameRejects(t *testing.T) {
	s, r := studyUUID, responseUUID
	cases := []struct {
		name, in string
	}{
		{"empty", ""},
		{"five parts", "videoStream_" + s + "_f_" + r + "_1700000000123"},
		{"seven parts (underscore in frame id)", "videoStream_" + s + "_f_x_" + r + "_1700000000123_abc"},
		{"wrong first part", "audioStream_" + s + "_f_" + r + "_1700000000123_abc"},
		{"first part case", "videostream_" + s + "_f_" + r + "_1700000000123_abc"},
		{"other prefix", "assent-videoStream_" + s + "_f_" + r + "_1700000000123_abc"},
		{"consent prefix twice", "consent-consent-videoStream_" + s + "_f_" + r + "_1700000000123_abc"},
		{"consent prefix without dash", "consentvideoStream_" + s + "_f_" + r + "_1700000000123_abc"},
		{"study not a UUID", "videoStream_study_f_" + r + "_1700000000123_abc"},
		{"study UUID without dashes", "videoStream_" + strings.ReplaceAll(s, "-", "") + "_f_" + r + "_1700000000123_abc"},
		{"study UUID too short", "videoStream_" + s[1:] + "_f_" + r + "_1700000000123_abc"},
		{"study UUID non-hex", "videoStream_" + "g" + s[1:] + "_f_" + r + "_1700000000123_abc"},
		{"response not a UUID", "videoStream_" + s + "_f_response_1700000000123_abc"},
		{"response UUID with braces", "videoStream_" + s + "_f_{" + r + "}_1700000000123_abc"},
		{"empty frame id", "videoStream_" + s + "__" + r + "_1700000000123_abc"},
		{"overlong frame id", recordingName(strings.Repeat("f", 201))},
		{"timestamp with letter", "videoStream_" + s + "_f_" + r + "_17000000001x3_abc"},
		{"negative timestamp", "videoStream_" + s + "_f_" + r + "_-1_abc"},
		{"timestamp with sign", "videoStream_" + s + "_f_" + r + "_+1_abc"},
		{"decimal timestamp", "videoStream_" + s + "_f_" + r + "_1.5_abc"},
		{"empty timestamp", "videoStream_" + s + "_f_" + r + "__abc"},
		{"16-digit timestamp", "videoStream_" + s + "_f_" + r + "_1234567890123456_abc"},
		{"non-ASCII digits", "videoStream_" + s + "_f_" + r + "_١٢٣_abc"},
		{"slash in frame id", "videoStream_" + s + "_a/b_" + r + "_1700000000123_abc"},
		{"backslash in random part", "videoStream_" + s + "_f_" + r + "_1700000000123_a\\b"},
		{"newline in frame id", "videoStream_" + s + "_a\nb_" + r + "_1700000000123_abc"},
		{"empty random part", "videoStream_" + s + "_f_" + r + "_1700000000123_"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n, err := pipe.ParseName(c.in); err == nil {
				t.Fatalf("ParseName(%q) = %+v, want an error", c.in, n)
			}
		})
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(eventJSON(f, "upload success", "vs1457_abc", "MP4", recordingName("5-video-consent")))
	f.Add(eventJSON(f, "upload success", "vs1", "webm", "consent-"+recordingName("1-consent")))
	f.Add(eventJSON(f, "upload success", "vs1", "mov", "videoStream_"+strings.ToUpper(studyUUID)+"_f_"+strings.ToUpper(responseUUID)+"_1_r"))
	f.Add(eventJSON(f, "upload failed", "vs1", "MP4", recordingName("f")))
	f.Add(eventJSON(f, "upload success", "vs1", "MP4", "videoStream____"))
	f.Add(`{"data":{"s3UploadStatus":"upload success","videoName":"a","type":"mp4","payload":"consent-"}}`)
	f.Add(`{"data":null}`)
	f.Add(`not json`)
	f.Add("")
	f.Fuzz(func(t *testing.T, payload string) {
		ev, n, err := pipe.ParseEvent(payload)
		if err != nil {
			if ev != nil || n != (pipe.Name{}) {
				t.Fatalf("error %v came with %+v %+v", err, ev, n)
			}
			return
		}
		if ev == nil {
			t.Fatal("nil event without an error")
		}
		if !utf8.ValidString(payload) || !json.Valid([]byte(payload)) {
			t.Fatalf("accepted %q, which is not one valid UTF-8 JSON value", payload)
		}
		if ev.Data.S3UploadStatus != "upload success" {
			t.Fatalf("accepted status %q", ev.Data.S3UploadStatus)
		}
		for _, id := range []string{n.StudyID, n.ResponseID} {
			if len(id) != 36 || id != strings.ToLower(id) {
				t.Fatalf("UUID %q is not a lower-case UUID", id)
			}
		}
		if n.FrameID == "" || strings.Contains(n.FrameID, "_") {
			t.Fatalf("frame id %q is empty or holds an underscore", n.FrameID)
		}
		if n.TimestampMS < 0 {
			t.Fatalf("negative timestamp %d", n.TimestampMS)
		}
		prefix := ""
		if n.Consent {
			prefix = "consent-"
		}
		if prefix+n.Base != ev.Data.Payload || strings.ContainsAny(n.Base, "/\\\x00\n") {
			t.Fatalf("base %q of %q", n.Base, ev.Data.Payload)
		}
		again, err := pipe.ParseName(ev.Data.Payload)
		if err != nil || again != n {
			t.Fatalf("ParseName(data.payload) = %+v, %v; ParseEvent gave %+v", again, err, n)
		}
	})
}
