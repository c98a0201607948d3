package downloads

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"strings"
	"testing"

	"lookit.dev/platform/shared/accounts"
)

// The expected texts below are what Python 3 prints (repr(), csv.writer with
// QUOTE_NONNUMERIC, json.dumps); they were checked against a Python interpreter.

func TestPyFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1, "1.0"}, {0.1, "0.1"}, {-2.5, "-2.5"}, {53.7, "53.7"}, {1e-05, "1e-05"}, {0.0001, "0.0001"},
		{1e15, "1000000000000000.0"}, {1e16, "1e+16"}, {12345678901234567, "1.2345678901234568e+16"},
		{123456789.123, "123456789.123"}, {1.5e300, "1.5e+300"}, {5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"}, {0, "0.0"}, {math.Copysign(0, -1), "-0.0"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {100, "100.0"}, {1.25e-7, "1.25e-07"},
	} {
		if got := pyFloat(c.f); got != c.want {
			t.Errorf("pyFloat(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	for _, c := range []struct{ json, want string }{
		{`"plain"`, `'plain'`},
		{`"it's"`, `"it's"`},
		{`"both ' and \""`, `'both \' and "'`},
		{`"tab\tnl\ncr\r back\\slash"`, `'tab\tnl\ncr\r back\\slash'`},
		{`"\u0001\u007f\u00e9\u00a0\u2028\ud83d\ude00"`, `'\x01\x7fé\xa0\u2028😀'`},
		{`[1, 2.0, true, false, null, -0, 1e400]`, `[1, 2.0, True, False, None, 0, inf]`},
		{`{"a": [1, true, null], "b": "it's", "c": {}}`, `{'a': [1, True, None], 'b': "it's", 'c': {}}`},
		{`{"k": 1, "k": 2, "j": 3}`, `{'k': 2, 'j': 3}`}, // Python's dict: first position, last value
	} {
		v, err := parseJSON([]byte(c.json), nullValue)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(appendPyRepr(nil, &v)); got != c.want {
			t.Errorf("repr(%s) = %s, want %s", c.json, got, c.want)
		}
	}
}

func TestPyJSON(t *testing.T) {
	v, err := parseJSON([]byte(`{"b": [], "a": {"x": [1, {"y": "é😀\u0000\u007f/"}], "z": {}}, "n": 12345678901234567890, "f": 1E2}`), nullValue)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"b\": [],\n\t\"a\": {\n\t\t\"x\": [\n\t\t\t1,\n\t\t\t{\n\t\t\t\t\"y\": \"\\u00e9\\ud83d\\ude00\\u0000\\u007f/\"\n" +
		"\t\t\t}\n\t\t],\n\t\t\"z\": {}\n\t},\n\t\"n\": 12345678901234567890,\n\t\"f\": 100.0\n}"
	if got := string(appendPyJSON(nil, &v, 0)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestCSVQuoting checks QUOTE_NONNUMERIC on values that trip naive writers.
func TestCSVQuoting(t *testing.T) {
	v, err := parseJSON([]byte(`["say \"hi\"", "a,b", "two\nlines", "crlf\r\nend", "", "Zoë ✓ 😀", " padded ",
		"\"", 0, -0, 12345678901234567890, 2.50, 1e-7, true, false, null, [], {"k": "v's"}, "=1+1", "123"]`), nullValue)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := newCSVWriter(&out)
	for i := range v.elems {
		c.value(&v.elems[i])
	}
	if err := c.endRow(); err != nil {
		t.Fatal(err)
	}
	if err := c.flush(); err != nil {
		t.Fatal(err)
	}
	want := `"say ""hi""","a,b","two` + "\n" + `lines","crlf` + "\r\n" + `end","","Zoë ✓ 😀"," padded ",` +
		`"""",0,0,12345678901234567890,2.5,1e-07,True,False,"","[]","{'k': ""v's""}","=1+1","123"` + "\r\n"
	if got := out.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	// A standard reader sees the same fields (it turns \r\n inside quotes into \n).
	rec, err := csv.NewReader(strings.NewReader(want)).Read()
	if err != nil {
		t.Fatal(err)
	}
	if rec[0] != `say "hi"` || rec[2] != "two\nlines" || rec[3] != "crlf\nend" || rec[7] != `"` || rec[15] != "" {
		t.Fatalf("read back %q", rec)
	}
}

func TestRoundAge(t *testing.T) {
	// Python: round(x/10)*10 up to 360, round(x/30)*30 above; round() sends halves to even.
	for days, want := range map[int]int{
		0: 0, 4: 0, 5: 0, 6: 10, 15: 20, 25: 20, 35: 40, 355: 360, 360: 360, 361: 360, 375: 360,
		376: 390, 405: 420, 435: 420, 465: 480, -5: 0, -15: -20, -25: -20, -26: -30,
	} {
		if got := RoundAge(days); got != want {
			t.Errorf("RoundAge(%d) = %d, want %d", days, got, want)
		}
	}
}

func TestParsePyDate(t *testing.T) {
	// Python's datetime.strptime(s, "%Y-%m-%d") accepts or refuses these, except the last:
	// Python's \d also matches non-ASCII digits, which exit surveys (ISO dates) never write.
	for s, want := range map[string]string{
		"2023-04-20": "2023-04-20", "2023-4-2": "2023-04-02", "2023-12-31": "2023-12-31", "2023-1-12": "2023-01-12",
		"2023-04- 2": "2023-04-02", "0099-01-01": "0099-01-01",
		"2023-04-2T": "", "2023-02-30": "", "2023-13-01": "", "2023-00-10": "", "2023-04-32": "", "23-04-20": "",
		"2023/04/20": "", "": "", "2023-04-": "", "2023-04-20 ": "", "0000-01-01": "",
		"２０２３-04-20": "",
	} {
		d, ok := parsePyDate(s)
		got := ""
		if ok {
			got = d.String()
		}
		if got != want {
			t.Errorf("parsePyDate(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestBirthdateDifference(t *testing.T) {
	bday := accounts.NewDate(2023, 4, 22)
	for _, c := range []struct {
		json string
		want value
	}{
		{`"2023-04-20T04:00:00.000Z"`, intValue(-2)},
		{`"2023-05-02"`, intValue(10)},
		{`"2023-4-30T00:00"`, nullValue}, // the first 10 characters are "2023-4-30T": no date
		{`""`, nullValue},
		{`null`, nullValue},
		{`20230420`, nullValue},
		{`"not a date"`, nullValue},
	} {
		v, _ := parseJSON([]byte(c.json), nullValue)
		got := birthdateDifference(v, bday)
		if got.kind != c.want.kind || got.s != c.want.s {
			t.Errorf("birthdateDifference(%s) = %+v, want %+v", c.json, got, c.want)
		}
	}
}

func TestNestingLimit(t *testing.T) {
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	if _, err := parseJSON([]byte(ok), nullValue); err != nil {
		t.Errorf("%d levels: %v", maxDepth, err)
	}
	deep := "[" + ok + "]"
	if _, err := parseJSON([]byte(deep), nullValue); !strings.Contains(fmt.Sprint(err), "nested more than") {
		t.Errorf("%d levels: %v", maxDepth+1, err)
	}
}
