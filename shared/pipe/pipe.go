// Package pipe authenticates and parses the webhook of the Pipe recording service, which still
// records video for studies pinned to frameplayer versions from before 2024 and calls
// POST /exp/renamevideo/ when a recording has been copied to S3.
package pipe

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Sign returns the signature Pipe sends in X-Pipe-Signature: base64(HMAC-SHA1(key, webhookURL +
// payload)). webhookURL is the exact URL configured in Pipe; rebuilding it from the request is
// fragile behind load balancers.
func Sign(key, webhookURL, payload string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(webhookURL))
	m.Write([]byte(payload))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether signature is Pipe's signature of payload, in constant time.
func Verify(key, webhookURL, payload, signature string) bool {
	want := Sign(key, webhookURL, payload)
	return hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature)))
}

// Event is the webhook's payload JSON.
type Event struct {
	Version string `json:"version"`
	Event   string `json:"event"`
	Data    struct {
		S3UploadStatus string      `json:"s3UploadStatus"`
		VideoName      string      `json:"videoName"`
		Type           string      `json:"type"`
		Size           int64       `json:"size"`
		ID             json.Number `json:"id"`
		Bucket         string      `json:"bucket"`
		Region         string      `json:"region"`
		Payload        string      `json:"payload"`
	} `json:"data"`
}

// Name is the parsed recording name the frameplayer gave Pipe:
// [consent-]videoStream_<study uuid>_<frame id>_<response uuid>_<timestamp ms>_<random>.
type Name struct {
	Base        string // the name without its "consent-" prefix
	Consent     bool
	StudyID     string
	FrameID     string
	ResponseID  string
	TimestampMS int64
	Random      string
}

var (
	uuidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	digitsRE = regexp.MustCompile(`^[0-9]{1,15}$`)
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)
)

// ErrUnsuccessful is returned for an event that does not report a finished upload.
var ErrUnsuccessful = errors.New("pipe: upload did not succeed")

// ParseEvent decodes and checks the payload form field.
func ParseEvent(payload string) (*Event, Name, error) {
	var e Event
	if !utf8.ValidString(payload) {
		// encoding/json would quietly replace the bad bytes; the database cannot store them.
		return nil, Name{}, errors.New("pipe: payload is not UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return nil, Name{}, fmt.Errorf("pipe: payload is not JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Name{}, errors.New("pipe: payload must be exactly one JSON value")
	}
	if e.Data.S3UploadStatus != "upload success" {
		return nil, Name{}, ErrUnsuccessful
	}
	if !nameRE.MatchString(e.Data.VideoName) {
		return nil, Name{}, errors.New("pipe: data.videoName is missing or malformed")
	}
	if t := strings.ToLower(e.Data.Type); t != "mp4" && t != "webm" && t != "mov" {
		return nil, Name{}, errors.New("pipe: data.type must be MP4, WEBM or MOV")
	}
	n, err := ParseName(e.Data.Payload)
	if err != nil {
		return nil, Name{}, err
	}
	return &e, n, nil
}

// ParseName splits a recording name. Frame ids cannot contain "_", as in Lookit.
func ParseName(s string) (Name, error) {
	var n Name
	if rest, ok := strings.CutPrefix(s, "consent-"); ok {
		n.Consent, s = true, rest
	}
	n.Base = s
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '/' || r == '\\' }) {
		// The name becomes an object key: no control characters or path separators.
		return Name{}, errors.New("pipe: data.payload holds a control character or a slash")
	}
	parts := strings.Split(s, "_")
	if len(parts) != 6 || parts[0] != "videoStream" {
		return Name{}, errors.New("pipe: data.payload must be videoStream_<study>_<frame>_<response>_<ms>_<random>")
	}
	if !uuidRE.MatchString(parts[1]) || !uuidRE.MatchString(parts[3]) {
		return Name{}, errors.New("pipe: data.payload must hold the study and response UUIDs")
	}
	if parts[2] == "" || len(parts[2]) > 200 {
		return Name{}, errors.New("pipe: data.payload has an empty or overlong frame id")
	}
	if parts[5] == "" || len(parts[5]) > 100 {
		return Name{}, errors.New("pipe: data.payload has an empty or overlong random part")
	}
	if !digitsRE.MatchString(parts[4]) {
		return Name{}, errors.New("pipe: data.payload timestamp must be milliseconds")
	}
	var ms int64
	fmt.Sscan(parts[4], &ms)
	n.StudyID, n.FrameID, n.ResponseID = strings.ToLower(parts[1]), parts[2], strings.ToLower(parts[3])
	n.TimestampMS, n.Random = ms, parts[5]
	return n, nil
}
