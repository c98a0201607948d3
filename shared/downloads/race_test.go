//go:build race

package downloads_test

// raceEnabled: the race detector slows each row about tenfold, so the memory test streams fewer
// rows through fewer writers (make test runs with -race; plain go test runs them all).
const raceEnabled = true
