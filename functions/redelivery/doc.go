// Package redelivery holds the test that delivers every Pub/Sub-triggered function's messages
// twice at once and then once more, through the same CloudEvent entry points Eventarc calls, and
// checks that each effect (an email sent, a build started, a video deleted, a job run) happens
// once. It has no code of its own.
package redelivery
