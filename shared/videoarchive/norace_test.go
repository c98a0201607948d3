//go:build !race

package videoarchive_test

const raceEnabled = false
