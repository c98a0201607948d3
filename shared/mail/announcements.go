package mail

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// KindStudyAnnouncement is the daily email telling a family about a study their children are
// eligible for (Lookit's study_announcement).
const KindStudyAnnouncement = "study_announcement"

// StudyAnnouncement invites a family's children (given names, youngest first as the family
// sees them) to one study. parent is the family's nickname ("" for a plain greeting); link is
// the study's page; prefsLink is where the family turns these emails off.
func StudyAnnouncement(parent string, children []string, study, description, link, prefsLink string) Content {
	names := make([]string, 0, len(children))
	for _, c := range children {
		if c = oneLine(c); c != "" {
			names = append(names, c)
		}
	}
	who, verb := "Your child", "is"
	if len(names) > 0 {
		who = joinNames(names)
	}
	if len(names) > 1 {
		verb = "are"
	}
	study = oneLine(study)

	greeting := "Hello,"
	if p := oneLine(parent); p != "" {
		greeting = "Dear " + p + ","
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n%s %s invited to take part in a new study on Lookit (Children Helping Science):\n\n%s\n", greeting, who, verb, study)
	if d := strings.TrimSpace(description); d != "" {
		b.WriteString("\n" + d + "\n")
	}
	fmt.Fprintf(&b, "\nTo learn more and take part, visit:\n%s\n", link)
	fmt.Fprintf(&b, "\nYou are receiving this email because your Lookit account is set to tell you about new studies your children are eligible for. To stop these emails, change your email preferences: %s\n", prefsLink)
	return Content{KindStudyAnnouncement, announcementSubject(who, verb, study), b.String()}
}

// announcementSubject is Lookit's subject, fitted within MaxSubject: the study name is shortened
// first; names longer than a third of it give way to "Your children" (or are cut, for one).
func announcementSubject(who, verb, study string) string {
	const format = "%s %s invited to take part in \"%s\" on Lookit (Children Helping Science)!"
	if r := []rune(who); len(r) > MaxSubject/3 {
		if verb == "are" {
			who = "Your children"
		} else {
			who = string(r[:MaxSubject/3-1]) + "…"
		}
	}
	room := MaxSubject - (utf8.RuneCountInString(format) - 6) - utf8.RuneCountInString(who) - len(verb)
	if r := []rune(study); len(r) > room {
		study = string(r[:room-1]) + "…"
	}
	return fmt.Sprintf(format, who, verb, study)
}

// joinNames is "A", "A and B", "A, B and C".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// oneLine collapses whitespace (newlines included) in a name someone typed.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
