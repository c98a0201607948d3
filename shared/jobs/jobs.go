// Package jobs names the scheduled jobs Cloud Scheduler fires through the scheduled-jobs topic
// (replacing Celery beat) and the message it sends.
package jobs

// Request is the payload Cloud Scheduler publishes for a job.
type Request struct {
	Job string `json:"job"`
}

// Job names. Each later feature adds its own (announcements, video upload cleanup, ...).
const (
	// PruneEventReceipts deletes idempotency receipts older than Pub/Sub's longest retention
	// (7 days) plus a margin; a message that old can no longer be redelivered.
	PruneEventReceipts = "prune-event-receipts"
	// RetryUnsentEmails republishes outbox emails that were stored but never published.
	RetryUnsentEmails = "retry-unsent-emails"
	// PruneSessions deletes expired sessions, spent emailed tokens, old API tokens and ended
	// log-in throttles.
	PruneSessions = "prune-sessions"
	// DeleteDueVideos deletes the stored video whose deletion is due (withdrawn 7 days ago).
	DeleteDueVideos = "delete-due-videos"
	// CompleteStaleUploads completes browser video uploads abandoned more than a day ago.
	CompleteStaleUploads = "complete-stale-uploads"
	// StudyAnnouncements tells families about active studies their children are eligible for.
	StudyAnnouncements = "study-announcements"
)

// Schedule is each job's cron schedule (UTC), used by infra/ for Cloud Scheduler.
var Schedule = map[string]string{
	PruneEventReceipts:   "30 2 * * *",
	RetryUnsentEmails:    "*/15 * * * *",
	PruneSessions:        "15 3 * * *",
	DeleteDueVideos:      "45 * * * *",
	CompleteStaleUploads: "0 4 * * *",
	StaleBuilds:          "*/10 * * * *",
	StaleExports:         "5-59/10 * * * *",
	// Daily, in the morning in the Americas (10:00 EDT); Lookit's ran at 10:00, by default UTC.
	StudyAnnouncements: "0 14 * * *",
}
