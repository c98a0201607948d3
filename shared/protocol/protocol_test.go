package protocol_test

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"lookit.dev/platform/shared/protocol"
)

const fixturePath = "/work/shared/fixtures/frameplayer-protocol.json"

// validGenerator is the shape of Lookit's generator template.
const validGenerator = "function generateProtocol(child, pastSessions) {\n    return {frames: {}, sequence: []};\n}\n"

func TestFixtureValidates(t *testing.T) {
	data, err := os.ReadFile(fixturePath)
	if os.IsNotExist(err) {
		t.Skipf("fixture %s is not on this machine", fixturePath)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := protocol.Validate(data, "", false)
	if err != nil {
		t.Fatalf("Validate(fixture) = %v", err)
	}
	if want := []string{"consent", "intro", "exit-survey"}; !reflect.DeepEqual(s.Sequence, want) {
		t.Errorf("Sequence = %q, want %q", s.Sequence, want)
	}
	if want := []string{"consent", "intro", "exit-survey"}; !reflect.DeepEqual(s.FrameIDs, want) {
		t.Errorf("FrameIDs = %q, want %q (input order)", s.FrameIDs, want)
	}
	if string(s.Raw) != string(data) {
		t.Error("Raw is not the input as given")
	}
	kinds := map[string]string{}
	for id, frame := range s.Frames {
		kinds[id] = protocol.FrameType(frame)
	}
	wantKinds := map[string]string{"consent": "exp-lookit-survey-consent", "intro": "exp-lookit-text", "exit-survey": "exp-lookit-exit-survey"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("kinds = %v, want %v", kinds, wantKinds)
	}
	if !protocol.IsConsentFrame(kinds["consent"]) || !protocol.IsExitFrame(kinds["exit-survey"]) ||
		protocol.IsConsentFrame(kinds["intro"]) || protocol.IsExitFrame(kinds["intro"]) {
		t.Error("consent or exit frame not recognised")
	}
	if err := protocol.ReadyToSubmit(s, false); err != nil {
		t.Errorf("ReadyToSubmit(fixture) = %v", err)
	}
	// The same protocol also passes with a generator in charge.
	if _, err := protocol.Validate(data, validGenerator, true); err != nil {
		t.Errorf("Validate(fixture, generator) = %v", err)
	}
}

func TestDraftAndSubmit(t *testing.T) {
	s, err := protocol.Validate(json.RawMessage(`{"frames": {}, "sequence": []}`), "", false)
	if err != nil {
		t.Fatalf("Lookit's default structure: %v", err)
	}
	if s.Frames == nil || s.Sequence == nil {
		t.Error("Frames and Sequence must not be nil")
	}
	checkError(t, protocol.ReadyToSubmit(s, false), "/structure/sequence", "is empty")

	s, err = protocol.Validate(json.RawMessage(`{"frames": {}, "sequence": []}`), validGenerator, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.ReadyToSubmit(s, true); err != nil {
		t.Errorf("ReadyToSubmit with a generator = %v", err)
	}

	// A structure that reached storage under other rules is still checked on submission.
	stale := protocol.Structure{Frames: map[string]json.RawMessage{"a": json.RawMessage(`{}`)}, Sequence: []string{"a", "b"}}
	checkError(t, protocol.ReadyToSubmit(stale, false), "/structure/sequence/1", `frame "b" is not in frames`)
}

func TestErrorFormat(t *testing.T) {
	_, err := protocol.Validate(json.RawMessage(`{"frames": {"a": {"kind": "exp-lookit-text"}}, "sequence": ["a", "a", "a", "intro"]}`), "", false)
	if got, want := err.Error(), `/structure/sequence/3: frame "intro" is not in frames`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var perr *protocol.Error
	if !errors.As(err, &perr) || perr.Pointer != "/structure/sequence/3" {
		t.Errorf("error %#v is not a *protocol.Error with the pointer", err)
	}
}

type validateCase struct {
	name      string
	structure string
	generator string
	useGen    bool
	pointer   string // "" when the input is valid
	message   string // a substring of the message
}

// frame wraps frames and a sequence into a structure.
func structure(frames, sequence string) string {
	return `{"frames": {` + frames + `}, "sequence": [` + sequence + `]}`
}

func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1)
}

func TestValidate(t *testing.T) {
	text := `{"kind": "exp-lookit-text"}`
	long := strings.Repeat("é", protocol.MaxFrameIDRunes)
	manyEntries := func(n int) string { return strings.TrimSuffix(strings.Repeat(`"a",`, n), ",") }
	deepPointer := "/structure" + strings.Repeat("/a", protocol.MaxDepth)

	cases := []validateCase{
		// The document itself.
		{name: "empty", structure: ``, pointer: "/structure", message: "is required"},
		{name: "blank", structure: " \n", pointer: "/structure", message: "is required"},
		{name: "too large", structure: `{"x": "` + strings.Repeat("a", protocol.MaxStructureBytes) + `"}`, pointer: "/structure", message: "larger than 2 MiB"},
		{name: "array", structure: `[]`, pointer: "/structure", message: "must be a JSON object"},
		{name: "null", structure: `null`, pointer: "/structure", message: "must be a JSON object"},
		{name: "string", structure: `"{}"`, pointer: "/structure", message: "must be a JSON object"},
		{name: "truncated", structure: `{"frames": {"a": `, pointer: "/structure/frames/a", message: "ends too early"},
		{name: "syntax", structure: `{"frames": {"a": {"kind": x}}}`, pointer: "/structure/frames/a/kind", message: "not valid JSON"},
		{name: "trailing comma", structure: `{"frames": {},}`, pointer: "/structure", message: "not valid JSON"},
		{name: "trailing data", structure: `{"frames": {}, "sequence": []} {}`, pointer: "/structure", message: "more data"},
		{name: "depth at limit", structure: `{"frames": {}, "sequence": [], "x": ` + nested(protocol.MaxDepth-1) + `}`},
		{name: "too deep", structure: nested(protocol.MaxDepth + 1), pointer: deepPointer, message: "more than 64 levels"},
		{name: "NUL escape", structure: `{"frames": {"a": {"title": "x\u0000"}}}`, pointer: "/structure/frames/a/title", message: `\u0000`},
		{name: "NUL in key", structure: `{"frames": {"a\u0000": {}}}`, pointer: "/structure/frames/a\x00", message: "key contains"},
		{name: "lone high surrogate", structure: `{"exact_text": "\ud83d x"}`, pointer: "/structure/exact_text", message: "low surrogate"},
		{name: "lone low surrogate", structure: `{"exact_text": "\uDE00"}`, pointer: "/structure/exact_text", message: "high surrogate"},
		{name: "surrogate pair", structure: `{"frames": {}, "sequence": [], "exact_text": "\ud83d\ude00 \\u0000"}`},
		{name: "invalid UTF-8", structure: "{\"exact_text\": \"\xff\"}", pointer: "/structure/exact_text", message: "UTF-8"},
		{name: "number too large", structure: `{"frames": {"a": {"n": [1, 1e400]}}}`, pointer: "/structure/frames/a/n/1", message: "too large"},
		{name: "number too precise", structure: `{"frames": {"a": {"n": 1e-1001}}}`, pointer: "/structure/frames/a/n", message: "decimal places"},
		{name: "ordinary numbers", structure: `{"frames": {}, "sequence": [], "n": [0, -0.5, 1e300, 1e-300, 0e-99999999999999999999, 100e-1000]}`},

		// Top-level members.
		{name: "frames not object", structure: `{"frames": [], "sequence": []}`, pointer: "/structure/frames", message: "must be an object"},
		{name: "frames null", structure: `{"frames": null, "sequence": []}`, pointer: "/structure/frames", message: "must be an object"},
		{name: "sequence not array", structure: `{"frames": {}, "sequence": "a"}`, pointer: "/structure/sequence", message: "must be an array"},
		{name: "sequence entry not string", structure: structure(`"a": `+text, `"a", 1`), pointer: "/structure/sequence/1", message: "must be a frame id"},
		{name: "sequence at limit", structure: structure(`"a": `+text, manyEntries(protocol.MaxSequenceLen))},
		{name: "sequence too long", structure: structure(`"a": `+text, manyEntries(protocol.MaxSequenceLen+1)), pointer: "/structure/sequence", message: "more than 1000"},
		{name: "exact_text kept", structure: `{"frames": {}, "sequence": [], "exact_text": "{\"frames\": {}}"}`},
		{name: "exact_text not string", structure: `{"frames": {}, "sequence": [], "exact_text": {}}`, pointer: "/structure/exact_text", message: "must be a string"},
		{name: "exact_text null", structure: `{"frames": {}, "sequence": [], "exact_text": null}`, pointer: "/structure/exact_text", message: "must be a string"},
		{name: "unknown top-level key", structure: `{"frames": {}, "sequence": [], "notes": {"x": [1]}}`},
		{name: "duplicate top-level key", structure: `{"frames": {}, "sequence": [], "frames": {}}`, pointer: "/structure/frames", message: "more than once"},
		{name: "missing frames", structure: `{"sequence": []}`, pointer: "/structure/frames", message: "is missing"},
		{name: "missing sequence", structure: `{"frames": {}}`, pointer: "/structure/sequence", message: "is missing"},

		// Frame ids and frames.
		{name: "frame not object", structure: structure(`"intro": "exp-lookit-text"`, ``), pointer: "/structure/frames/intro", message: "must be a frame object"},
		{name: "frame null", structure: structure(`"intro": null`, ``), pointer: "/structure/frames/intro", message: "must be a frame object"},
		{name: "empty frame id", structure: structure(`"": {}`, ``), pointer: "/structure/frames/", message: "must not be empty"},
		{name: "pointer escaping", structure: structure(`"a/b~c": []`, ``), pointer: "/structure/frames/a~1b~0c", message: "must be a frame object"},
		{name: "frame id at limit", structure: structure(`"`+long+`": {}`, ``)},
		{name: "frame id too long", structure: structure(`"`+long+`x": {}`, ``), pointer: "/structure/frames/" + long + "x", message: "longer than 128"},
		{name: "control character", structure: structure(`"a\tb": {}`, ``), pointer: "/structure/frames/a\tb", message: "control characters"},
		{name: "hasOwnProperty", structure: structure(`"hasOwnProperty": {}`, ``), pointer: "/structure/frames/hasOwnProperty", message: "cannot be used"},
		{name: "duplicate frame id", structure: structure(`"a": {}, "a": {}`, ``), pointer: "/structure/frames/a", message: "more than once"},
		{name: "first frame in input order", structure: structure(`"b": 1, "a": 2`, ``), pointer: "/structure/frames/b"},
		{name: "frame missing", structure: structure(`"a": `+text, `"a", "b"`), pointer: "/structure/sequence/1", message: `frame "b" is not in frames`},
		{name: "first missing in sequence order", structure: structure(`"a": `+text, `"y", "x"`), pointer: "/structure/sequence/0", message: `"y"`},
		{name: "shape before references", structure: `{"sequence": ["nope"], "frames": {"a": 1}}`, pointer: "/structure/frames/a"},
		{name: "repeated entries", structure: structure(`"a": `+text+`, "b": `+text, `"a", "b", "a"`)},

		// Frames the sequence reaches.
		{name: "kind missing", structure: structure(`"a": {"title": "x"}`, `"a"`), pointer: "/structure/frames/a", message: `has no "kind"`},
		{name: "kind not string", structure: structure(`"a": {"kind": 3}`, `"a"`), pointer: "/structure/frames/a/kind", message: "must be a string"},
		{name: "kind null", structure: structure(`"a": {"kind": null}`, `"a"`), pointer: "/structure/frames/a/kind", message: "must be a string"},
		{name: "kind empty", structure: structure(`"a": {"kind": ""}`, `"a"`), pointer: "/structure/frames/a/kind", message: "must not be empty"},
		{name: "unreached frame not checked", structure: structure(`"a": `+text+`, "b_c": {}`, `"a"`)},
		{name: "unknown kind", structure: structure(`"a": {"kind": "exp-lookit-new-thing", "whatever": [1, {}]}, "b": {"kind": "custom"}`, `"a", "b"`)},
		{name: "underscore in id", structure: structure(`"intro_1": `+text, `"intro_1"`), pointer: "/structure/frames/intro_1", message: "may contain only"},
		{name: "non-ASCII id", structure: structure(`"intró": `+text, `"intró"`), pointer: "/structure/frames/intró", message: "may contain only"},
		{name: "repeat suffix", structure: structure(`"intro-repeat-2": `+text, `"intro-repeat-2"`), pointer: "/structure/frames/intro-repeat-2", message: "-repeat-"},
		{name: "repeat without number", structure: structure(`"intro-repeat-x": `+text+`, "b-repeat-": `+text, `"intro-repeat-x", "b-repeat-"`)},
		{name: "own id checked", structure: structure(`"a": {"kind": "exp-lookit-text", "id": "a_b"}`, `"a"`), pointer: "/structure/frames/a/id", message: `"a_b"`},
		{name: "own id replaces key", structure: structure(`"a_b": {"kind": "exp-lookit-text", "id": "a-b"}`, `"a_b"`)},
		{name: "falsy own id falls back to key", structure: structure(`"a_b": {"kind": "exp-lookit-text", "id": ""}`, `"a_b"`), pointer: "/structure/frames/a_b", message: "may contain only"},
		{name: "own id not string", structure: structure(`"a": {"kind": "exp-lookit-text", "id": 7}`, `"a"`), pointer: "/structure/frames/a/id", message: "must be a string"},
		{name: "parameters defer checks", structure: structure(`"a_b": {"kind": "KIND", "parameters": {"KIND": "exp-lookit-text"}}`, `"a_b"`)},
		{name: "parameters keep kind required", structure: structure(`"a": {"parameters": {"x": 1}}`, `"a"`), pointer: "/structure/frames/a", message: `has no "kind"`},
		{name: "null parameters are ignored", structure: structure(`"a_b": {"kind": "exp-lookit-text", "parameters": null}`, `"a_b"`), pointer: "/structure/frames/a_b", message: "may contain only"},

		// Group frames.
		{name: "group", structure: structure(`"g": {"kind": "group", "frameList": [{"kind": "exp-lookit-text"}, {"kind": "group", "frameList": []}]}`, `"g"`)},
		{name: "group underscore key is fine", structure: structure(`"g_1": {"kind": "group", "frameList": [`+text+`]}`, `"g_1"`)},
		{name: "group without frameList", structure: structure(`"g": {"kind": "group"}`, `"g"`), pointer: "/structure/frames/g", message: `without "frameList"`},
		{name: "group frameList not array", structure: structure(`"g": {"kind": "group", "frameList": {}}`, `"g"`), pointer: "/structure/frames/g/frameList", message: "must be an array"},
		{name: "group of ids", structure: structure(`"a": `+text+`, "g": {"kind": "group", "frameList": ["a"]}`, `"g"`), pointer: "/structure/frames/g/frameList/0", message: "not frame ids"},
		{name: "group entry without kind", structure: structure(`"g": {"kind": "group", "frameList": [`+text+`, {"title": "x"}]}`, `"g"`), pointer: "/structure/frames/g/frameList/1", message: `has no "kind"`},
		{name: "group common kind", structure: structure(`"g": {"kind": "group", "commonFrameProperties": {"kind": "exp-lookit-text"}, "frameList": [{"title": "x"}, {"title": "y"}]}`, `"g"`)},
		{name: "group bad common kind", structure: structure(`"g": {"kind": "group", "commonFrameProperties": {"kind": 1}, "frameList": [{}]}`, `"g"`), pointer: "/structure/frames/g/commonFrameProperties/kind", message: "must be a string"},
		{name: "group entry id", structure: structure(`"g": {"kind": "group", "commonFrameProperties": {"kind": "exp-lookit-text"}, "frameList": [{"id": "x_y"}]}`, `"g"`), pointer: "/structure/frames/g/frameList/0/id", message: "may contain only"},
		{name: "nested group", structure: structure(`"g": {"kind": "group", "frameList": [{"kind": "group", "frameList": [{"kind": "choice"}]}]}`, `"g"`), pointer: "/structure/frames/g/frameList/0/frameList/0", message: `without "sampler"`},
		{name: "group with parameters", structure: structure(`"g": {"kind": "group", "frameList": "LIST", "parameters": {"LIST": []}}`, `"g"`)},

		// Choice frames.
		{name: "choice", structure: structure(`"c": {"kind": "choice", "sampler": "random-parameter-set", "frameList": [], "parameterSets": []}`, `"c"`)},
		{name: "choice any sampler", structure: structure(`"c": {"kind": "choice", "sampler": "my-fork-sampler"}`, `"c"`)},
		{name: "choice without sampler", structure: structure(`"c": {"kind": "choice", "frameList": []}`, `"c"`), pointer: "/structure/frames/c", message: `without "sampler"`},
		{name: "choice sampler not string", structure: structure(`"c": {"kind": "choice", "sampler": ["permute"]}`, `"c"`), pointer: "/structure/frames/c/sampler", message: "must name the randomizer"},

		// With a generator.
		{name: "generator, empty structure", structure: `{}`, generator: validGenerator, useGen: true},
		{name: "generator, missing frames allowed", structure: `{"frames": {}, "sequence": ["later", "made_up"]}`, generator: validGenerator, useGen: true},
		{name: "generator, frames must be object", structure: `{"frames": [], "sequence": []}`, generator: validGenerator, useGen: true, pointer: "/structure/frames", message: "must be an object"},
		{name: "generator, frame must be object", structure: `{"frames": {"a": 1}}`, generator: validGenerator, useGen: true, pointer: "/structure/frames/a"},
		{name: "generator, sequence entries strings", structure: `{"sequence": [null]}`, generator: validGenerator, useGen: true, pointer: "/structure/sequence/0"},
		{name: "generator, frames unchecked", structure: structure(`"a_b": {}`, `"a_b"`), generator: validGenerator, useGen: true},
		{name: "generator empty", structure: `{}`, generator: "", useGen: true, pointer: "/generator", message: "is empty"},
		{name: "generator blank", structure: `{}`, generator: " \n\t", useGen: true, pointer: "/generator", message: "is empty"},
		{name: "generator without function", structure: `{}`, generator: "return {frames: {}, sequence: []};", useGen: true, pointer: "/generator", message: "generateProtocol"},
		{name: "generator arrow", structure: `{}`, generator: "generateProtocol = (child) => ({})", useGen: true, pointer: "/generator", message: "generateProtocol"},
		{name: "generator odd spacing", structure: `{}`, generator: "function  generateProtocol (c, p) {}", useGen: true},
		{name: "generator too large", structure: `{}`, generator: validGenerator + strings.Repeat(" ", protocol.MaxGeneratorBytes), useGen: true, pointer: "/generator", message: "256 KiB"},
		{name: "generator NUL", structure: `{}`, generator: validGenerator + "\x00", useGen: true, pointer: "/generator", message: "U+0000"},
		{name: "generator invalid UTF-8", structure: `{}`, generator: validGenerator + "\xff", useGen: true, pointer: "/generator", message: "UTF-8"},
		{name: "structure reported before generator", structure: `{"frames": 1}`, generator: "", useGen: true, pointer: "/structure/frames"},
		{name: "unused generator not checked", structure: structure(``, ``), generator: "not javascript"},
		{name: "unused generator still stored", structure: structure(``, ``), generator: "\x00", pointer: "/generator", message: "U+0000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := protocol.Validate(json.RawMessage(c.structure), c.generator, c.useGen)
			if c.pointer == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want success", err)
				}
				if string(s.Raw) != c.structure {
					t.Errorf("Raw = %q, want the input", s.Raw)
				}
				return
			}
			checkError(t, err, c.pointer, c.message)
		})
	}
}

func TestStructureContents(t *testing.T) {
	in := `{"exact_text": "typed", "sequence": ["b", "a", "b"], "frames": {"b": {"kind": "exp-lookit-text"}, "a": {"kind": "exp-lookit-exit-survey"}}, "extra": 1}`
	s, err := protocol.Validate(json.RawMessage(in), "", false)
	if err != nil {
		t.Fatal(err)
	}
	if s.ExactText != "typed" || !reflect.DeepEqual(s.FrameIDs, []string{"b", "a"}) || !reflect.DeepEqual(s.Sequence, []string{"b", "a", "b"}) {
		t.Errorf("got %+v", s)
	}
	if string(s.Frames["a"]) != `{"kind": "exp-lookit-exit-survey"}` {
		t.Errorf("Frames[a] = %s, want the frame as given", s.Frames["a"])
	}
	// Raw is a copy: the caller's buffer may be reused.
	buf := []byte(in)
	s, _ = protocol.Validate(buf, "", false)
	buf[0] = ' '
	if s.Raw[0] != '{' {
		t.Error("Raw shares the caller's buffer")
	}
}

func TestFrameType(t *testing.T) {
	for frame, want := range map[string]string{
		`{"kind": "exp-lookit-exit-survey"}`: "exp-lookit-exit-survey",
		`{"kind": "group", "frameList": []}`: "group",
		`{"KIND": "exp-lookit-text"}`:        "", // keys are case-sensitive, unlike encoding/json's field matching
		`{"kind": 1}`:                        "",
		`{}`:                                 "",
		`[]`:                                 "",
		`not json`:                           "",
	} {
		if got := protocol.FrameType(json.RawMessage(frame)); got != want {
			t.Errorf("FrameType(%s) = %q, want %q", frame, got, want)
		}
	}
}

func TestConsentAndExitKinds(t *testing.T) {
	for _, kind := range []string{"exp-lookit-video-consent", "exp-lookit-survey-consent", "exp-lookit-video-assent"} {
		if !protocol.IsConsentFrame(kind) || protocol.IsExitFrame(kind) {
			t.Errorf("%s: want a consent frame", kind)
		}
	}
	if !protocol.IsExitFrame("exp-lookit-exit-survey") || protocol.IsConsentFrame("exp-lookit-exit-survey") {
		t.Error("exp-lookit-exit-survey: want the exit frame")
	}
	for _, kind := range []string{"", "exp-lookit-text", "exp-video-config", "CONSENT", "EXIT", "exp-lookit-video-consent-x"} {
		if protocol.IsConsentFrame(kind) || protocol.IsExitFrame(kind) {
			t.Errorf("%q: neither consent nor exit", kind)
		}
	}
}

func checkError(t *testing.T, err error, pointer, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", pointer)
	}
	perr, ok := err.(*protocol.Error)
	if !ok {
		t.Fatalf("error %v is %T, want *protocol.Error", err, err)
	}
	if perr.Pointer != pointer || !strings.Contains(perr.Message, message) {
		t.Fatalf("error %s: %s\nwant %s: …%s…", strconv.Quote(perr.Pointer), perr.Message, strconv.Quote(pointer), message)
	}
}
