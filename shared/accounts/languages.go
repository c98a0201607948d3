package accounts

import "math/bits"

// Language is one of Lookit's spoken-language choices: an ISO 639 code and its English name.
type Language struct {
	Code string
	Name string
}

// languageTable is Lookit's LANGUAGES (studies/fields.py), ranked by number of speakers with
// English first. It is in bit order: bit i of a stored languages_spoken value is entry i. Never
// reorder, insert into or remove from it; a new language may only be appended, and 64 is the limit.
var languageTable = [...]Language{
	{"en", "English"},                 // 0
	{"am", "Amharic"},                 // 1
	{"bn", "Bengali"},                 // 2
	{"bho", "Bhojpuri"},               // 3
	{"my", "Burmese"},                 // 4
	{"ceb", "Cebuano"},                // 5
	{"hne", "Chhattisgarhi"},          // 6
	{"nl", "Dutch"},                   // 7
	{"egy", "Egyptian Spoken Arabic"}, // 8
	{"fr", "French"},                  // 9
	{"gan", "Gan"},                    // 10
	{"de", "German"},                  // 11
	{"gu", "Gujarati"},                // 12
	{"hak", "Hakka"},                  // 13
	{"ha", "Hausa"},                   // 14
	{"he", "Hebrew"},                  // 15
	{"hi", "Hindi"},                   // 16
	{"ig", "Igbo"},                    // 17
	{"id", "Indonesian"},              // 18
	{"pes", "Iranian Persian"},        // 19
	{"it", "Italian"},                 // 20
	{"ja", "Japanese"},                // 21
	{"jv", "Javanese"},                // 22
	{"cjy", "Jinyu"},                  // 23
	{"kn", "Kannada"},                 // 24
	{"km", "Khmer"},                   // 25
	{"ko", "Korean"},                  // 26
	{"mag", "Magahi"},                 // 27
	{"mai", "Maithili"},               // 28
	{"ms", "Malay"},                   // 29
	{"ml", "Malayalam"},               // 30
	{"cmn", "Mandarin"},               // 31
	{"mr", "Marathi"},                 // 32
	{"nan", "Min Nan"},                // 33
	{"mor", "Moroccan Spoken Arabic"}, // 34
	{"pbu", "Northern Pashto"},        // 35
	{"uzn", "Northern Uzbek"},         // 36
	{"or", "Odia"},                    // 37
	{"pl", "Polish"},                  // 38
	{"pt", "Portuguese"},              // 39
	{"ro", "Romanian"},                // 40
	{"ru", "Russian"},                 // 41
	{"skr", "Saraiki"},                // 42
	{"sd", "Sindhi"},                  // 43
	{"so", "Somali"},                  // 44
	{"es", "Spanish"},                 // 45
	{"su", "Sunda"},                   // 46
	{"tl", "Tagalog"},                 // 47
	{"ta", "Tamil"},                   // 48
	{"te", "Telugu"},                  // 49
	{"th", "Thai"},                    // 50
	{"tr", "Turkish"},                 // 51
	{"uk", "Ukrainian"},               // 52
	{"ur", "Urdu"},                    // 53
	{"vi", "Vietnamese"},              // 54
	{"lah", "Western Punjabi"},        // 55
	{"wuu", "Wu"},                     // 56
	{"hsn", "Xiang Chinese"},          // 57
	{"yo", "Yoruba"},                  // 58
	{"yue", "Yue"},                    // 59
}

// NumLanguages is the number of language flags (60).
const NumLanguages = len(languageTable)

var languageBits = func() bitTable {
	codes := make([]string, len(languageTable))
	for i, l := range languageTable {
		codes[i] = l.Code
	}
	return newBitTable("language", codes)
}()

// AllLanguages returns Lookit's languages in bit order.
func AllLanguages() []Language {
	out := make([]Language, len(languageTable))
	copy(out, languageTable[:])
	return out
}

// LanguageName returns the English name of a language code.
func LanguageName(code string) (string, bool) {
	b, ok := languageBits.index[code]
	if !ok {
		return "", false
	}
	return languageTable[b].Name, true
}

// LanguageBit returns the bit position of a language code.
func LanguageBit(code string) (int, bool) {
	b, ok := languageBits.index[code]
	return int(b), ok
}

// Languages is the set of languages a child speaks, Lookit's languages_spoken BitField: bit i is
// set when the child speaks the i-th language of AllLanguages. It is stored as a bigint; every
// defined bit fits in 60 bits, so int64(l) and Languages(n) convert without loss.
type Languages uint64

// ParseLanguages returns the set of the given codes. Duplicates are allowed; an unknown code
// (codes are case-sensitive, as in Lookit) gives an *UnknownCodeError naming it and its index.
func ParseLanguages(codes []string) (Languages, error) {
	v, err := languageBits.parse(codes)
	return Languages(v), err
}

// Has reports whether code is in the set.
func (l Languages) Has(code string) bool { return languageBits.has(uint64(l), code) }

// Codes returns the codes in the set, in bit order.
func (l Languages) Codes() []string { return languageBits.codesOf(uint64(l)) }

// String returns the codes in bit order separated by single spaces: Lookit's Child.language_list.
func (l Languages) String() string { return languageBits.list(uint64(l)) }

// Count returns the number of languages in the set (the eligibility grammar's n_languages).
func (l Languages) Count() int { return bits.OnesCount64(uint64(l) & languageBits.mask()) }

// Valid reports whether only defined language bits are set.
func (l Languages) Valid() bool { return uint64(l)&^languageBits.mask() == 0 }
