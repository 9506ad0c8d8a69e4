"""PostgreSQL: a report's whole intake as one function call, `intake_report(control, rows…) RETURNS json`.

Dropped again by 0009: intake is one transaction of Core statements on both databases. The modules and
tests named below were removed with it; 0009's downgrade recreates the function from FUNCTION here.

Python plans everything that needs no database (validation, locating, routing, the rows to insert);
the function does what must happen under the intake locks, in one round trip: take the advisory locks,
answer a retry with its first report, join the nearest open case of the category within the dedup
radius and window, or open the planned case — the same steps, in the same order, as the per-table path
in coordinator.cases.services (the reference, and SQLite's only path); tests/cases/test_intake_paths.py
checks that both store identical rows. The arguments come from coordinator.cases.intake_pg.

Each statement inside a VOLATILE plpgsql function takes a fresh snapshot (READ COMMITTED), so the
lookups after the locks see every intake that committed while this one waited for them.

A later migration that changes a column intake writes (case_file, case_partner, report, case_event,
outbox_message) must CREATE OR REPLACE this function with its new column lists.

Nothing on SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 03:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns written from the JSON rows (frozen here: this is the schema as of this revision).
CASE_COLUMNS = (
    "status", "category_code", "lon", "lat", "district_code", "town_code", "outcome", "in_border_zone",
    "border_pair_a", "border_pair_b", "lead_squad_id", "queue_unit_id", "routing", "claim_by",
    "resolve_by", "report_count", "created_at", "updated_at", "last_report_at", "synthetic",
    "resolution_photos",
)  # fmt: skip
# ("merged" is not among them: the function decides it.)
REPORT_COLUMNS = (
    "category_code", "description", "source", "observed_at", "received_at", "input_lon", "input_lat",
    "input_crs", "lon", "lat", "photos", "reporter_name", "reporter_phone", "external_id",
    "idempotency_key", "submitted_by_id", "synthetic",
)  # fmt: skip
EVENT_COLUMNS = ("at", "actor_id", "actor")
# What a replay answers with (the lookup row of coordinator.cases.services' per-table path).
REPLAY_COLUMNS = (
    "r.id AS report_id, r.case_id, c.number, c.status, c.routing, r.category_code, r.input_lon AS lon, "
    "r.input_lat AS lat, r.idempotency_key, r.merged, c.district_code, c.lead_squad_id"
)


def _cols(columns: Sequence[str]) -> str:
    return ", ".join(columns)


def _from(record: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{record}.{c}" for c in columns)


# Only the constant column lists above are interpolated into the SQL.
FUNCTION = f"""
CREATE FUNCTION intake_report(
    control jsonb, case_row json, partner_rows json, report_row json, reported_event json,
    routed_event json, outbox_rows json
) RETURNS json LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE
    -- The small control document is jsonb and read once into typed variables; the rows stay json,
    -- each parsed once by json_populate_record (a json value is re-parsed by every -> on it).
    v_submitter_id integer := CAST(control #>> '{{retry,submitter_id}}' AS integer);
    v_idempotency_key text := control #>> '{{retry,idempotency_key}}';
    v_source text := control #>> '{{retry,source}}';
    v_external_id text := control #>> '{{retry,external_id}}';
    v_category text := control #>> '{{dedup,category}}';
    v_lon float8 := CAST(control #>> '{{dedup,lon}}' AS float8);
    v_lat float8 := CAST(control #>> '{{dedup,lat}}' AS float8);
    v_lat_min float8 := CAST(control #>> '{{dedup,lat_min}}' AS float8);
    v_lat_max float8 := CAST(control #>> '{{dedup,lat_max}}' AS float8);
    v_lon_min float8 := CAST(control #>> '{{dedup,lon_min}}' AS float8);
    v_lon_max float8 := CAST(control #>> '{{dedup,lon_max}}' AS float8);
    v_since timestamptz := CAST(control #>> '{{dedup,since}}' AS timestamptz);
    v_radius_m float8 := CAST(control #>> '{{dedup,radius_m}}' AS float8);
    v_earth_radius_m float8 := CAST(control #>> '{{dedup,earth_radius_m}}' AS float8);
    v_statuses text[] := ARRAY(SELECT jsonb_array_elements_text(control #> '{{dedup,statuses}}'));
    v_now timestamptz := CAST(control ->> 'now' AS timestamptz);
    hit record;
    v_merged boolean;
    v_case_id integer;
    v_number text;
    v_last integer;
    v_report_id integer;
BEGIN
    -- 1. Serialise intakes that could collide (same retry identity, same dedup cells), in key order
    --    so that two intakes never deadlock.
    PERFORM pg_advisory_xact_lock(k) FROM (
        SELECT CAST(jsonb_array_elements_text(control -> 'lock_keys') AS bigint) AS k ORDER BY 1
    ) AS sorted_keys;

    -- 2. A retry: the first report with this Idempotency-Key (checked first) or external id. Two
    --    lookups, not one with OR: each is an equality on its unique index, which a cached generic plan
    --    keeps even on a young table (the OR form's generic plan is a sequential scan there).
    IF v_submitter_id IS NOT NULL AND v_idempotency_key IS NOT NULL THEN
        SELECT {REPLAY_COLUMNS} INTO hit
          FROM report AS r JOIN case_file AS c ON c.id = r.case_id
         WHERE r.submitted_by_id = v_submitter_id AND r.idempotency_key = v_idempotency_key;
        IF FOUND THEN
            RETURN json_build_object('outcome', 'replay', 'row', row_to_json(hit));
        END IF;
    END IF;
    IF v_external_id IS NOT NULL THEN
        SELECT {REPLAY_COLUMNS} INTO hit
          FROM report AS r JOIN case_file AS c ON c.id = r.case_id
         WHERE r.source = v_source AND r.external_id = v_external_id;
        IF FOUND THEN
            RETURN json_build_object('outcome', 'replay', 'row', row_to_json(hit));
        END IF;
    END IF;

    -- 3. The nearest open case of the category within the radius and window: a range scan of
    --    ix_case_dedup (category_code, lat, lon), then the haversine distance of the few rows in the box
    --    (the formula of coordinator.cases.services.geodesic_distance_m; nearest first, then lowest id).
    SELECT * INTO hit FROM (
        SELECT c.id AS case_id, c.number, c.status, c.routing, c.district_code, c.lead_squad_id,
               2 * v_earth_radius_m * asin(sqrt(
                   sin((radians(c.lat) - radians(v_lat)) / 2) ^ 2
                   + cos(radians(v_lat)) * cos(radians(c.lat)) * sin(radians(c.lon - v_lon) / 2) ^ 2
               )) AS distance
          FROM case_file AS c
         WHERE c.category_code = v_category
           AND c.lat BETWEEN v_lat_min AND v_lat_max
           AND c.lon BETWEEN v_lon_min AND v_lon_max
           AND c.status = ANY (v_statuses)
           AND c.last_report_at >= v_since
    ) AS box
     WHERE box.distance <= v_radius_m
     ORDER BY box.distance, box.case_id
     LIMIT 1;
    v_merged := FOUND;

    IF v_merged THEN
        -- 4a. Join it: count the report, insert it and its "report_merged" event.
        v_case_id := hit.case_id;
        UPDATE case_file SET report_count = report_count + 1,
               last_report_at = GREATEST(last_report_at, v_now), updated_at = v_now
         WHERE id = v_case_id;
    ELSE
        -- 4b. Open the planned case: next number of the year, the case, its partners.
        INSERT INTO case_number_counter (year, last) VALUES (CAST(control ->> 'year' AS integer), 1)
            ON CONFLICT (year) DO UPDATE SET last = case_number_counter.last + 1
            RETURNING last INTO v_last;
        v_number := (control ->> 'number_prefix')
            || lpad(CAST(v_last AS text), GREATEST(6, length(CAST(v_last AS text))), '0');
        INSERT INTO case_file (number, geom, {_cols(CASE_COLUMNS)})
            SELECT v_number, ST_SetSRID(ST_MakePoint(cr.lon, cr.lat), 4326), {_from("cr", CASE_COLUMNS)}
              FROM json_populate_record(NULL::case_file, case_row) AS cr
            RETURNING id INTO v_case_id;
        INSERT INTO case_partner (case_id, squad_id, reason, added_at)
            SELECT v_case_id, p.squad_id, p.reason, p.added_at
              FROM json_populate_recordset(NULL::case_partner, partner_rows) AS p;
    END IF;

    INSERT INTO report (case_id, geom, merged, {_cols(REPORT_COLUMNS)})
        SELECT v_case_id, ST_SetSRID(ST_MakePoint(rr.lon, rr.lat), 4326), v_merged,
               {_from("rr", REPORT_COLUMNS)}
          FROM json_populate_record(NULL::report, report_row) AS rr
        RETURNING id INTO v_report_id;

    IF v_merged THEN
        INSERT INTO case_event (case_id, {_cols(EVENT_COLUMNS)}, kind, from_status, to_status, reason,
                                payload)
            SELECT v_case_id, {_from("e", EVENT_COLUMNS)}, 'report_merged', NULL, hit.status,
                   left(replace(control ->> 'merged_reason', '{{distance}}',
                                CAST(CAST(round(hit.distance) AS bigint) AS text)), 500),
                   json_build_object('report_id', v_report_id,
                                     'distance_m', round(CAST(hit.distance AS numeric), 1))
              FROM json_populate_record(NULL::case_event, reported_event) AS e;
        RETURN json_build_object('outcome', 'merged', 'report_id', v_report_id, 'row', row_to_json(hit));
    END IF;

    -- The "reported" event (with the new report's id), the "routed" event, the outbox message.
    INSERT INTO case_event (case_id, {_cols(EVENT_COLUMNS)}, kind, from_status, to_status, reason, payload)
        SELECT v_case_id, {_from("e", EVENT_COLUMNS)}, e.kind, e.from_status, e.to_status, e.reason,
               json_build_object('report_id', v_report_id, 'distance_m', e.payload -> 'distance_m')
          FROM json_populate_record(NULL::case_event, reported_event) AS e
        UNION ALL
        SELECT v_case_id, {_from("e", EVENT_COLUMNS)}, e.kind, e.from_status, e.to_status, e.reason,
               e.payload
          FROM json_populate_record(NULL::case_event, routed_event) AS e;
    INSERT INTO outbox_message (kind, case_id, payload, created_at)
        SELECT o.kind, v_case_id,
               CAST(CAST(o.payload AS jsonb) || jsonb_build_object('case_number', v_number) AS json),
               o.created_at
          FROM json_populate_recordset(NULL::outbox_message, outbox_rows) AS o;
    RETURN json_build_object('outcome', 'opened', 'report_id', v_report_id, 'case_id', v_case_id,
                             'number', v_number);
END
$fn$
"""  # noqa: S608


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTION)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION intake_report(jsonb, json, json, json, json, json, json)")
