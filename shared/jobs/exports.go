package jobs

// StaleExports publishes again the exports whose publication was lost (still queued) and those
// whose run died after Pub/Sub stopped redelivering it (a lease that ran out); a redundant
// delivery does nothing (jobs.go's Schedule lists it).
const StaleExports = "stale-exports"
