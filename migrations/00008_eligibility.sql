-- +goose Up
-- Study eligibility in SQL, the twin of shared/eligibility, so that the children eligible for a
-- study can be found in one query instead of loading every child into Go. Both functions must
-- give exactly the answers of the Go code; shared/eligibility's TestGoAndSQLAgree checks that on
-- thousands of random children and expressions.

-- A criteria expression is parsed in Go (eligibility.Parse) and stored as the JSON tree that
-- eligibility.Expr marshals to; codes are already resolved to bit positions and genders to their
-- stored codes, so this function knows no code tables and survives a language being appended.
-- It trusts the tree to be one Go wrote (it raises on an unknown op, field or comparison, but
-- does not re-check ranges). NULL and jsonb null are the empty expression: true.
--
-- The child's gestational_age is the stored 0-17 scale: weeks = value + 23, so 0 ("under 24
-- weeks") is 23 weeks, NOT "no answer" as in Lookit. A NULL (no answer) makes every numeric
-- comparison on it false, != included; only gest_na tests for it. A NULL age_days is treated the
-- same way; NULL gender is '' and NULL bit sets are empty, so the result is never NULL and NOT
-- stays plain negation.
--
-- plpgsql rather than SQL because the tree is recursive; IMMUTABLE and PARALLEL SAFE because the
-- answer depends on the arguments alone, so the planner may evaluate it in parallel workers.
-- +goose StatementBegin
CREATE FUNCTION criteria_matches(ast jsonb, age_days integer, gender text, gestational_age smallint,
                                 conditions bigint, languages bigint)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    op   text;
    args jsonb;
    lhs  integer;
    rhs  integer;
BEGIN
    IF ast IS NULL OR jsonb_typeof(ast) = 'null' THEN
        RETURN true;
    END IF;
    op := ast->>'op';
    CASE op
    WHEN 'and', 'or' THEN
        -- Short-circuit like Go: AND stops at the first false arg, OR at the first true one.
        args := ast->'args';
        FOR i IN 0 .. jsonb_array_length(args) - 1 LOOP
            IF criteria_matches(args->i, age_days, gender, gestational_age, conditions, languages) = (op = 'or') THEN
                RETURN op = 'or';
            END IF;
        END LOOP;
        RETURN op = 'and';
    WHEN 'not' THEN
        RETURN NOT criteria_matches(ast->'arg', age_days, gender, gestational_age, conditions, languages);
    WHEN 'cmp' THEN
        CASE ast->>'field'
        WHEN 'age_in_days' THEN
            lhs := age_days;
        WHEN 'gestational_age_in_weeks' THEN
            lhs := gestational_age + 23;
        WHEN 'n_languages' THEN
            -- Every set bit, as Go's bits.OnesCount64; bit(64) keeps bit 63 of a negative bigint.
            lhs := bit_count(coalesce(languages, 0)::bit(64));
        ELSE
            RAISE EXCEPTION 'criteria_matches: unknown field %', ast->>'field';
        END CASE;
        IF lhs IS NULL THEN
            RETURN false;
        END IF;
        rhs := (ast->>'value')::integer;
        CASE ast->>'cmp'
        WHEN '=' THEN RETURN lhs = rhs;
        WHEN '!=' THEN RETURN lhs <> rhs;
        WHEN '<' THEN RETURN lhs < rhs;
        WHEN '<=' THEN RETURN lhs <= rhs;
        WHEN '>' THEN RETURN lhs > rhs;
        WHEN '>=' THEN RETURN lhs >= rhs;
        ELSE RAISE EXCEPTION 'criteria_matches: unknown comparison %', ast->>'cmp';
        END CASE;
    WHEN 'gest_na' THEN
        RETURN (gestational_age IS NULL) <> coalesce((ast->>'negate')::boolean, false);
    WHEN 'gender' THEN
        RETURN (coalesce(gender, '') = (ast->>'value')) <> coalesce((ast->>'negate')::boolean, false);
    WHEN 'condition' THEN
        RETURN (coalesce(conditions, 0) >> (ast->>'bit')::integer) & 1 = 1;
    WHEN 'language' THEN
        RETURN (coalesce(languages, 0) >> (ast->>'bit')::integer) & 1 = 1;
    ELSE
        RAISE EXCEPTION 'criteria_matches: unknown op %', op;
    END CASE;
END;
$$;
-- +goose StatementEnd
COMMENT ON FUNCTION criteria_matches(jsonb, integer, text, smallint, bigint, bigint) IS
    'Evaluates a criteria expression tree (shared/eligibility Expr JSON) for one child; NULL tree is true';

-- Lookit's age rule: both limits inclusive, as eligibility.AgeCheck(...) = 0. A SQL function so
-- the planner can inline it.
-- +goose StatementBegin
CREATE FUNCTION age_in_range(age_days integer, min_days integer, max_days integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT age_days BETWEEN min_days AND max_days $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION age_in_range(integer, integer, integer);
DROP FUNCTION criteria_matches(jsonb, integer, text, smallint, bigint, bigint);
