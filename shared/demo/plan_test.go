package demo

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The generated data depends on the day only: the same plan every time for the same moment.
func TestPlanIsDeterministic(t *testing.T) {
	internal := studyRef{ID: 1, UUID: "11111111-1111-4111-8111-111111111111"}
	external := studyRef{ID: 3, UUID: "33333333-3333-4333-8333-333333333333"}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	plan := func(at time.Time) []byte {
		b, err := json.Marshal(makePlan(Responses, at, internal, external))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := plan(now), plan(now)
	if !bytes.Equal(a, b) {
		t.Fatal("two plans for the same moment differ")
	}
	// Dates count back from the moment.
	if bytes.Equal(a, plan(now.Add(24*time.Hour))) {
		t.Error("the plan a day later is the same")
	}
	p := makePlan(Responses, now, internal, external)
	if len(p.Responses) != Responses || len(p.Users) != Responses/5 {
		t.Errorf("%d responses of %d families", len(p.Responses), len(p.Users))
	}
}
