package lint

// Rule is one check lint makes: an id that never changes meaning, a
// severity, the words that document it (--list-rules, --explain, SARIF
// rule metadata) and the check itself.
type Rule struct {
	// ID is stable: "INQ001".
	ID string
	// Name is the rule's identifier in SARIF: "OpenRouteWithoutReason".
	Name string
	// Severity is the default severity; StrictSeverity, if not zero, is
	// the severity under --strict.
	Severity, StrictSeverity Severity
	// Title is one line: what the rule flags.
	Title string
	// Explanation says why it matters and how lint decides, in paragraphs
	// separated by blank lines.
	Explanation string
	// Fix says in one line what to do about a finding.
	Fix string
	// Bad triggers the rule; Good is the same project with the fault fixed.
	Bad, Good Example
	// SecuritySeverity is GitHub code scanning's score, "0.0" to "10.0".
	SecuritySeverity string
	// Tags classify the rule in SARIF; every rule has "security".
	Tags []string
	// Precision is how often a finding is a real fault, as SARIF's
	// precision property says it: "very-high", "high" or "medium".
	Precision string
	// Optional rules are off by default: they judge a policy some projects
	// hold and others do not (every partner key on a usage plan, say), so
	// a project turns them on with inquir lint --enable INQnnn
	// (Options.Enable). The zero value is a rule that always runs.
	Optional bool

	check func(v *View) []Finding
}

// Example is a small project that shows a rule: its inquir.toml and any
// source files that matter to the rule. Every function it defines is a
// Node module; a module not in Files is an empty handler.
type Example struct {
	Config string
	// Files are other files, by path relative to the config's folder.
	Files map[string]string
}

// StubHandler is the module an Example's functions run when Files does not
// give their source.
const StubHandler = "export async function handler() {\n  return { statusCode: 200, body: \"ok\" };\n}\n"

// Rules returns every rule, in id order. Ids are never reused or
// renumbered; one may be missing while the change that adds it is
// under way on another branch (INQ020). Each call makes new values, so a
// caller may keep or change what it gets.
func Rules() []*Rule {
	return []*Rule{
		ruleOpenWithoutReason(),
		rulePublicRoute(),
		ruleUndefinedReference(),
		ruleUncallable(),
		ruleAnyKey(),
		ruleLiteralSecret(),
		ruleInternalAndExternal(),
		ruleOpenCatchesProtected(),
		ruleMixedProtection(),
		ruleInactiveKey(),
		ruleHandlerChecksKey(),
		ruleSideDoor(),
		ruleUnresolvableEnv(),
		ruleEncodedSlash(),
		ruleMethodSideDoor(),
		ruleNoRoutes(),
		ruleUnusedPlan(),
		ruleThrottleNamesNoRoute(),
		ruleKeyWithoutPlan(),
		ruleBase64WithoutBinaryTypes(),
		ruleUncarriedIdentitySource(),
		ruleCachedNarrowPolicy(),
		rulePayloadMismatch(),
	}
}

// RuleByID returns the rule with id (as in "INQ008"), or nil.
func RuleByID(id string) *Rule {
	for _, r := range Rules() {
		if r.ID == id {
			return r
		}
	}
	return nil
}
