package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"

	"lookit.dev/platform/shared/appapi"
	"lookit.dev/platform/shared/authz"
	"lookit.dev/platform/shared/hashedid"
)

func TestContactParticipants(t *testing.T) {
	d := newDataStudy(t, authz.GroupResearcher, authz.GroupAnalysis)
	ctx := context.Background()
	contact := "lab-" + uuid.NewString()[:8] + "@lab.example.org"
	if _, err := d.pool.Exec(ctx, `UPDATE labs SET contact_email = $2 WHERE id = (SELECT lab_id FROM studies WHERE id = $1)`, d.id, contact); err != nil {
		t.Fatal(err)
	}
	// Two families who took part (one refuses study updates) and one who did not.
	family := func(prefs string, participant bool) (string, string) {
		var id int64
		var userUUID string
		email := "fam-" + uuid.NewString()[:8] + "@example.org"
		if err := d.pool.QueryRow(ctx, `INSERT INTO users (email, nickname, email_study_updates) VALUES ($1, 'Parent', $2) RETURNING id, uuid::text`,
			email, prefs != "no-updates").Scan(&id, &userUUID); err != nil {
			t.Fatal(err)
		}
		if participant {
			if _, err := d.pool.Exec(ctx, `WITH c AS (INSERT INTO children (user_id, given_name, birthday, gender) VALUES ($1, 'Kid', current_date - 400, 'f') RETURNING id)
				INSERT INTO responses (study_id, child_id, study_type_id, is_preview) SELECT $2, c.id, 1, true FROM c`, id, d.id); err != nil {
				t.Fatal(err)
			}
		}
		return hashedid.Of(uuid.MustParse(userUUID), uuid.MustParse(d.uuid), uuid.MustParse(d.salt), 6), email
	}
	willing, willingEmail := family("", true)
	refusing, refusingEmail := family("no-updates", true)
	outsider, _ := family("", false)
	base := "/api/studies/" + d.uuid

	var people []appapi.StudyParticipant
	if c := d.call("researcher", "GET", base+"/participants", nil, &people); c != 200 || len(people) != 2 {
		t.Fatalf("participants: %d %+v", c, people)
	}
	for _, p := range people {
		if p.HashedId == refusing && slices.Contains(p.Accepts, "study_update") || p.HashedId == willing && !slices.Contains(p.Accepts, "study_update") {
			t.Errorf("preferences shown wrong: %+v", p)
		}
	}

	var sent appapi.StudyMessageSent
	msg := map[string]any{"kind": "study_update", "subject": "Results are in", "body": "Thank you!\n\nRead more at https://lab.example.org/results.",
		"recipients": []string{willing, refusing, outsider}}
	if c := d.call("researcher", "POST", base+"/messages", msg, &sent); c != 201 || sent.SentTo != 1 || len(sent.Skipped) != 2 {
		t.Fatalf("send: %d %+v", c, sent)
	}
	var to, unsubscribe []string
	var replyTo, kind, html string
	if err := d.pool.QueryRow(ctx, `SELECT e.to_addresses, e.list_unsubscribe, e.reply_to, e.kind, e.body_html FROM email_messages e
		JOIN researcher_message_recipients r ON r.email_id = e.id JOIN researcher_messages m ON m.id = r.message_id
		WHERE m.uuid = $1 LIMIT 1`, sent.Id).Scan(&to, &unsubscribe, &replyTo, &kind, &html); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(to, []string{willingEmail}) || slices.Contains(to, refusingEmail) || replyTo != contact || len(unsubscribe) != 1 || kind != "researcher_message" {
		t.Errorf("email: to %v, unsubscribe %v, reply-to %q, kind %q", to, unsubscribe, replyTo, kind)
	}
	// Transactional messages reach every participant, whatever their preferences.
	msg["kind"], msg["recipients"] = "transactional", []string{refusing}
	if c := d.call("researcher", "POST", base+"/messages", msg, &sent); c != 201 || sent.SentTo != 1 {
		t.Errorf("transactional: %d %+v", c, sent)
	}
	// Nobody who may receive it: 400 naming the recipients; bad kind names the kind.
	msg["kind"], msg["recipients"] = "study_update", []string{refusing, outsider}
	if c := d.call("researcher", "POST", base+"/messages", msg, nil); c != 400 {
		t.Errorf("no receivable recipient: %d", c)
	}
	msg["kind"] = "spam"
	if c := d.call("researcher", "POST", base+"/messages", msg, nil); c != 400 {
		t.Errorf("bad kind: %d", c)
	}

	// History per study and per family.
	var hist []appapi.StudyMessage
	d.call("researcher", "GET", base+"/messages", nil, &hist)
	if len(hist) != 2 || hist[0].Kind != "transactional" || hist[1].Recipients != 1 {
		t.Errorf("history: %+v", hist)
	}
	d.call("researcher", "GET", base+"/messages?participant="+willing, nil, &hist)
	if len(hist) != 1 || hist[0].Kind != "study_update" {
		t.Errorf("history of one family: %+v", hist)
	}
	d.call("researcher", "GET", base+"/messages?participant="+outsider, nil, &hist)
	if len(hist) != 0 {
		t.Errorf("history of an outsider: %+v", hist)
	}
	if c := d.call("analysis", "POST", base+"/messages", msg, nil); c != 403 {
		t.Errorf("analyst sent a message: %d", c)
	}
}
