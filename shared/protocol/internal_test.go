package protocol

import (
	"encoding/json"
	"math"
	"testing"
)

func TestEscapeToken(t *testing.T) {
	for in, want := range map[string]string{"intro": "intro", "a/b": "a~1b", "a~b": "a~0b", "~1": "~01", "/~": "~1~0", "": ""} {
		if got := escapeToken(in); got != want {
			t.Errorf("escapeToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSTruthy(t *testing.T) {
	for raw, want := range map[string]bool{
		`null`: false, `false`: false, `0`: false, `-0`: false, `0.000`: false, `0e5`: false, `-0E-3`: false, `1e-400`: false, `""`: false,
		`true`: true, `1`: true, `0.1`: true, `-2e-9`: true, `" "`: true, `"0"`: true, `{}`: true, `[]`: true,
	} {
		var value any
		if err := json.Unmarshal([]byte(raw), &value); err != nil {
			t.Fatal(err)
		}
		if got := jsTruthy(value); got != want {
			t.Errorf("jsTruthy(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestDecimalScale(t *testing.T) {
	for num, want := range map[string]int{
		"0": 0, "12": 0, "1.5": 1, "1.50": 1, "-0.001": 3, "1e-3": 3, "1.25e1": 1, "1.25e2": 0,
		"100e-2": 0, "120e-2": 1, "0e-5000": 0, "5e3": 0, "1e-99999999999": math.MaxInt, "1e+2": 0,
	} {
		if got := decimalScale(num); got != want {
			t.Errorf("decimalScale(%s) = %d, want %d", num, got, want)
		}
	}
}

func TestStringLiteralProblem(t *testing.T) {
	for lit, bad := range map[string]bool{
		`""`: false, `"plain"`: false, `"\n\t\"\\"`: false, `"\\u0000"`: false, `"\u00e9"`: false,
		`"\ud83d\ude00"`: false, `"\uD83D\uDE00x"`: false,
		`"\u0000"`: true, `"a\u0000b"`: true, `"\ud83d"`: true, `"\ud83dx"`: true, `"\ud83d\u0041"`: true,
		`"\ude00"`: true, `"\ud83d\ud83d\ude00"`: true, "\"\xc3\"": true,
	} {
		if got := stringLiteralProblem([]byte(lit)) != ""; got != bad {
			t.Errorf("stringLiteralProblem(%s) reports a problem: %v, want %v", lit, got, bad)
		}
	}
}

func TestRunnerIDProblem(t *testing.T) {
	for id, bad := range map[string]bool{
		"intro": false, "0-consent": false, "a.b c-D9": false, "x-repeat-": false, "x-repeat-a1": false, "repeat-1": false,
		"a_b": true, "a/b": true, "é": true, "x-repeat-1": true, "x-repeat-007": true, "a-repeat-1-repeat-22": true,
	} {
		if got := runnerIDProblem(id) != ""; got != bad {
			t.Errorf("runnerIDProblem(%q) reports a problem: %v, want %v", id, got, bad)
		}
	}
}
