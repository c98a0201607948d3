//go:build race

package videoarchive_test

// raceEnabled: the race detector is on, making gigabyte streams slow and allocation counts
// different.
const raceEnabled = true
