//go:build !race

package downloads_test

const raceEnabled = false
