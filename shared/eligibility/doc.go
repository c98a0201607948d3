// Package eligibility decides whether a child may take part in a study, as Lookit does: by an age
// rule (the child's age in days lies within the study's minimum and maximum ages) and by a
// researcher's criteria expression, such as
//
//	(deaf OR hearing_impairment) AND gestational_age_in_weeks >= 37 AND NOT speaks_en
//
// Both rules exist twice with the same answers: in Go (Parse, Expr.Eval, AgeCheck) and in
// PostgreSQL (criteria_matches and age_in_range, migrations/00008_eligibility.sql), so that a
// study can list eligible children with one query. The SQL function does not parse: it evaluates
// the JSON form of a parsed Expr (see below), in which every code is already resolved to a bit.
//
// # The criteria language
//
// Keywords, identifiers and values are case-insensitive.
//
//	expr    := or
//	or      := and ("OR" and)*
//	and     := not ("AND" not)*
//	not     := "NOT" not | primary
//	primary := "(" expr ")" | comparison | flag
//
//	comparison := "gender" ("=" | "!=") (male | m | female | f | other | o | na | n/a)
//	            | "gestational_age_in_weeks" op (24…40 | na)    (na only with = and !=)
//	            | "age_in_days" op 0…999999999
//	            | ("n_languages" | "num_languages") op 0…999999999
//	op         := "=" | "!=" | "<" | "<=" | ">" | ">="
//	flag       := a condition code of accounts.AllConditions, e.g. deaf, multiple_birth
//	            | "speaks_" + a language code of accounts.AllLanguages, e.g. speaks_en
//
// An empty or all-blank expression is always true. Input is limited to MaxSourceBytes bytes and
// to MaxNesting levels of parentheses and NOTs, so hostile input gives a *ParseError rather than
// exhausting the stack. Every error is a *ParseError carrying the position of the offending token.
//
// # The child
//
// A Child carries only what the language can test. gestational_age_in_weeks reads Lookit's stored
// scale (accounts.GestationalWeeks): 0 is "under 24 weeks" and counts as 23 weeks, 1…16 are
// 24…39 weeks (value + 23), 17 is "40 or more weeks" and counts as 40; nil is no answer.
//
// This deliberately fixes a Lookit bug. Lookit converts the stored value to weeks with a
// truthiness test, so an "under 24 weeks" child (value 0) is treated as if the parent had not
// answered: "gestational_age_in_weeks = na" is true for it and "gestational_age_in_weeks < 37" is
// false. Here value 0 is 23 weeks: "< 37" is true and "= na" is false.
//
// With no answer (nil), "gestational_age_in_weeks = na" is true, "!= na" is false, and every
// numeric comparison is false, "!=" included: an unknown age is neither equal nor unequal to 30
// weeks, so no comparison holds on a number the parent did not give.
// Negation is still plain logic: "NOT gestational_age_in_weeks = 30" is true for such a child.
//
// n_languages counts every set bit of Languages and flags test single bits, so the SQL function
// needs no copy of the code tables. A child's languages come from accounts.ParseLanguages, which
// sets defined bits only, so the count equals accounts.Languages.Count.
// gender compares the stored code ("m", "f", "o" or "na") exactly.
//
// # Storage as JSON
//
// json.Marshal of an *Expr gives a compact tree; json.Unmarshal restores an equal one and rejects
// anything Parse could not have produced. Nodes are
//
//	{"op":"and","args":[node, node, …]}                 (two or more args)
//	{"op":"or","args":[node, node, …]}                  (two or more args)
//	{"op":"not","arg":node}
//	{"op":"cmp","field":F,"cmp":C,"value":N}            F: "age_in_days",
//	                                                    "gestational_age_in_weeks" or "n_languages";
//	                                                    C: "=", "!=", "<", "<=", ">", ">="; N a number
//	{"op":"gest_na","negate":B}                         gestational_age_in_weeks = na (!= na if B)
//	{"op":"gender","negate":B,"value":G}                gender = G (!= G if B); G: "m", "f", "o", "na"
//	{"op":"condition","bit":I}                          bit I of the child's conditions is set
//	{"op":"language","bit":I}                           bit I of the child's languages is set
//
// num_languages is stored as n_languages. (json.Marshal escapes "<" and ">" in strings as \u003c
// and \u003e; Expr.MarshalJSON itself writes them plainly. PostgreSQL reads both the same.) The empty expression is JSON null; store it as SQL NULL
// or as jsonb null: criteria_matches is true for both.
package eligibility
