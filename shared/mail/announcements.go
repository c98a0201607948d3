package mail

// KindStudyAnnouncement is the daily email telling a family about a study their children are
// eligible for (Lookit's study_announcement).
const KindStudyAnnouncement = "study_announcement"

type announcement struct {
	Parent, Who, SubjectWho, Verb, Study, SubjectStudy, Description, Link, PrefsLink string
}

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
	subjectWho, subjectStudy := announcementSubject(who, verb, study)
	return Content{KindStudyAnnouncement, announcement{Parent: oneLine(parent), Who: who, SubjectWho: subjectWho, Verb: verb,
		Study: study, SubjectStudy: subjectStudy, Description: description, Link: link, PrefsLink: prefsLink}}
}

// announcementFixed is the length of the subject's fixed words in study_announcement.tmpl:
// `<who> <verb> invited to take part in "<study>" on Lookit (Children Helping Science)!`.
const announcementFixed = len(" ") + len(` invited to take part in "`) + len(`" on Lookit (Children Helping Science)!`)

// announcementSubject fits Lookit's subject within MaxSubject: the study name is shortened
// first; names longer than a third of it give way to "Your children" (or are cut, for one).
func announcementSubject(who, verb, study string) (string, string) {
	if runeLen(who) > MaxSubject/3 {
		if verb == "are" {
			who = "Your children"
		} else {
			who = fit(MaxSubject/3, who)
		}
	}
	return who, fit(MaxSubject-announcementFixed-runeLen(who)-len(verb), study)
}
