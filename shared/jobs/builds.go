package jobs

// StaleBuilds sends again the build requests whose publication was lost and expires builds that
// never reported an end (jobs.go's Schedule lists it).
const StaleBuilds = "stale-builds"
