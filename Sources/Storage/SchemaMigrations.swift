/// The platform's schema, as an ordered list of migrations. Append only: a released migration is never edited.
public enum SchemaMigrations {
    /// Every migration, in version order.
    public static let all: [Migration] = [
        Migration(1, "audit log and platform settings", [
            """
            CREATE TABLE audit_log (
                id TEXT PRIMARY KEY,
                occurred_at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT,
                detail TEXT,
                source_address TEXT,
                request_id TEXT
            )
            """,
            "CREATE INDEX audit_log_occurred_at ON audit_log (occurred_at)",
            "CREATE INDEX audit_log_actor ON audit_log (actor, occurred_at)",
            """
            CREATE TABLE platform_settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]),
        Migration(2, "editor registry and practitioner-editor links", [
            """
            CREATE TABLE editors (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                environment TEXT NOT NULL,
                base_url TEXT NOT NULL,
                flows TEXT NOT NULL,
                client_certificate_path TEXT,
                client_key_path TEXT,
                server_ca_path TEXT,
                inbound_cn TEXT,
                inbound_ou TEXT,
                timeout_ms INTEGER,
                enabled INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE editor_links (
                editor_id TEXT NOT NULL REFERENCES editors (id),
                idnps TEXT NOT NULL,
                first_seen_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                PRIMARY KEY (editor_id, idnps)
            )
            """,
            "CREATE INDEX editor_links_idnps ON editor_links (idnps)",
        ]),
        Migration(3, "care-offer directory", [
            """
            CREATE TABLE dir_practitioners (
                idnps TEXT PRIMARY KEY,
                civility TEXT NOT NULL,
                exercise_civility TEXT,
                family_name TEXT NOT NULL,
                given_name TEXT NOT NULL,
                profession_code TEXT NOT NULL,
                specialties TEXT NOT NULL,
                participates INTEGER NOT NULL,
                participation_mode INTEGER,
                participation_structure TEXT,
                accepts_extra INTEGER NOT NULL,
                forfait_reorientation INTEGER NOT NULL,
                vacations TEXT,
                source TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE dir_sites (
                id BIGINT PRIMARY KEY,
                idnps TEXT NOT NULL REFERENCES dir_practitioners (idnps) ON DELETE CASCADE,
                structure_idnst TEXT,
                address TEXT NOT NULL,
                postcode TEXT NOT NULL,
                insee_code TEXT,
                city TEXT NOT NULL,
                department TEXT NOT NULL,
                latitude DOUBLE PRECISION NOT NULL,
                longitude DOUBLE PRECISION NOT NULL,
                phone TEXT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX dir_sites_idnps ON dir_sites (idnps)",
            """
            CREATE TABLE dir_structures (
                idnst TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                department TEXT NOT NULL,
                latitude DOUBLE PRECISION NOT NULL,
                longitude DOUBLE PRECISION NOT NULL,
                phone TEXT,
                area TEXT NOT NULL,
                places TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE dir_vendor_links (
                idnps TEXT NOT NULL REFERENCES dir_practitioners (idnps) ON DELETE CASCADE,
                vendor TEXT NOT NULL,
                PRIMARY KEY (idnps, vendor)
            )
            """,
        ]),
        Migration(4, "SAS agenda slot occurrences and API tokens", [
            """
            CREATE TABLE agenda_slots (
                id TEXT PRIMARY KEY,
                idnps TEXT NOT NULL REFERENCES dir_practitioners (idnps) ON DELETE CASCADE,
                site_id BIGINT,
                start_at BIGINT NOT NULL,
                end_at BIGINT NOT NULL,
                consultation_types INTEGER NOT NULL,
                slot_kinds INTEGER NOT NULL,
                capacity INTEGER NOT NULL,
                booked INTEGER NOT NULL DEFAULT 0,
                cancelled INTEGER NOT NULL DEFAULT 0,
                version INTEGER NOT NULL DEFAULT 1,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX agenda_slots_practitioner ON agenda_slots (idnps, start_at)",
            """
            CREATE TABLE api_tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                scopes TEXT NOT NULL,
                token_sha256 TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL,
                created_by TEXT NOT NULL,
                last_used_at BIGINT,
                revoked_at BIGINT
            )
            """,
        ]),
        Migration(5, "accounts, roles, territories, sessions, password resets, OpenID Connect logins", [
            """
            CREATE TABLE accounts (
                id TEXT PRIMARY KEY,
                email TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                idnps TEXT UNIQUE,
                password_hash TEXT,
                must_change_password INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                status_reason TEXT,
                failed_attempts INTEGER NOT NULL DEFAULT 0,
                lockouts INTEGER NOT NULL DEFAULT 0,
                locked_until BIGINT,
                last_login_at BIGINT,
                inactivity_warned_at BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            )
            """,
            """
            CREATE TABLE account_roles (
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                PRIMARY KEY (account_id, role)
            )
            """,
            """
            CREATE TABLE account_territories (
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                territory TEXT NOT NULL,
                PRIMARY KEY (account_id, territory)
            )
            """,
            """
            CREATE TABLE sessions (
                id_sha256 TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                method TEXT NOT NULL,
                id_token TEXT,
                created_at BIGINT NOT NULL,
                last_seen_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                remote_address TEXT
            )
            """,
            "CREATE INDEX sessions_account ON sessions (account_id)",
            """
            CREATE TABLE password_resets (
                token_sha256 TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                used_at BIGINT
            )
            """,
            """
            CREATE TABLE oidc_logins (
                state TEXT PRIMARY KEY,
                nonce TEXT NOT NULL,
                code_verifier TEXT NOT NULL,
                return_to TEXT,
                created_at BIGINT NOT NULL
            )
            """,
        ]),
        Migration(6, "orientations (a regulator's choice of slot or practitioner; no patient data)", [
            """
            CREATE TABLE orientations (
                id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                regulator_id TEXT NOT NULL,
                regulator_email TEXT NOT NULL,
                practitioner_idnps TEXT,
                structure_id TEXT,
                offer_name TEXT NOT NULL,
                phone TEXT,
                vendor TEXT,
                slot_id TEXT,
                slot_start BIGINT,
                slot_end BIGINT,
                booking_url TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            )
            """,
            "CREATE INDEX orientations_regulator ON orientations (regulator_id, created_at)",
            "CREATE INDEX orientations_practitioner ON orientations (practitioner_idnps, slot_start)",
        ]),
        Migration(7, "appointments reported by vendors (INT_R03), scoped per vendor, linked to orientations", [
            """
            CREATE TABLE appointments (
                id TEXT PRIMARY KEY,
                editor_id TEXT NOT NULL,
                identifier_system TEXT NOT NULL,
                identifier_value TEXT NOT NULL,
                status TEXT NOT NULL,
                profile TEXT NOT NULL,
                operator_type TEXT NOT NULL,
                operator_system TEXT NOT NULL,
                operator_value TEXT NOT NULL,
                regulator_id TEXT,
                practitioner_idnps TEXT,
                start_at BIGINT NOT NULL,
                end_at BIGINT NOT NULL,
                booked_at BIGINT,
                orientation_id TEXT,
                version INTEGER NOT NULL DEFAULT 1,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (editor_id, identifier_system, identifier_value)
            )
            """,
            "CREATE INDEX appointments_orientation ON appointments (orientation_id)",
            "CREATE INDEX appointments_regulator ON appointments (regulator_id, start_at)",
        ]),
        Migration(8, "regulator accounts in vendors (INT_R02 sync state), orientation history and territory", [
            """
            CREATE TABLE regulator_sync (
                account_id TEXT NOT NULL,
                editor_id TEXT NOT NULL,
                state TEXT NOT NULL,
                remote_identifier TEXT,
                remote_active INTEGER NOT NULL DEFAULT 0,
                synced_profile TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT,
                last_status INTEGER,
                last_error TEXT,
                lease_until BIGINT,
                synced_at BIGINT,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (account_id, editor_id)
            )
            """,
            "CREATE INDEX regulator_sync_retry ON regulator_sync (state, next_attempt_at)",
            """
            CREATE TABLE orientation_events (
                id TEXT PRIMARY KEY,
                orientation_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                event TEXT NOT NULL,
                status TEXT NOT NULL,
                actor TEXT NOT NULL,
                detail TEXT,
                occurred_at BIGINT NOT NULL,
                UNIQUE (orientation_id, sequence)
            )
            """,
            "CREATE INDEX orientation_events_time ON orientation_events (occurred_at)",
            "ALTER TABLE orientations ADD COLUMN territory TEXT",
            "ALTER TABLE orientations ADD COLUMN category TEXT NOT NULL DEFAULT 'PS'",
            "CREATE INDEX orientations_created ON orientations (created_at)",
            // INT_R03: an identifier belongs to one vendor (the first to write it; others are refused), so it is unique
            // across vendors; the regulator's orientations around an appointment's start (matching), and the
            // appointment that completes an orientation (at most one).
            "CREATE UNIQUE INDEX appointments_identifier ON appointments (identifier_system, identifier_value)",
            "ALTER TABLE orientations ADD COLUMN appointment_id TEXT",
            "CREATE INDEX orientations_match ON orientations (regulator_id, slot_start)",
        ]),
        Migration(9, "vendor onboarding states and history, conformance check inputs and runs", [
            // Vendors registered before onboarding states existed were in service.
            "ALTER TABLE editors ADD COLUMN onboarding_state TEXT NOT NULL DEFAULT 'en_service'",
            """
            CREATE TABLE editor_onboarding_events (
                id TEXT PRIMARY KEY,
                editor_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                state TEXT NOT NULL,
                note TEXT,
                actor TEXT NOT NULL,
                occurred_at BIGINT NOT NULL,
                UNIQUE (editor_id, sequence)
            )
            """,
            """
            CREATE TABLE conformance_inputs (
                editor_id TEXT PRIMARY KEY,
                inputs TEXT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE conformance_runs (
                id TEXT PRIMARY KEY,
                editor_id TEXT NOT NULL,
                state TEXT NOT NULL,
                actor TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT,
                passed INTEGER,
                summary TEXT,
                report TEXT
            )
            """,
            "CREATE INDEX conformance_runs_editor ON conformance_runs (editor_id, started_at)",
        ]),
        Migration(10, "registries: LRM origins (INT_L01) and SAS territories with their SAMU client ids (INT_L02); vendors' expected server name", [
            "ALTER TABLE editors ADD COLUMN server_name TEXT",
            """
            CREATE TABLE lrm_origins (
                code TEXT PRIMARY KEY,
                label TEXT NOT NULL,
                territory TEXT,
                enabled INTEGER NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE sas_territories (
                code TEXT PRIMARY KEY,
                samu_client_id TEXT,
                active INTEGER NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
        ]),
        Migration(11, "INT_L02: delivery of each orientation event to the SAMU through Hub Santé", [
            // The orientation event is the outbox record (written in the change's transaction); this row follows its
            // delivery: waiting, sent (broker confirmed), received (the LRM's final ack), error, superseded.
            """
            CREATE TABLE hub_deliveries (
                event_id TEXT PRIMARY KEY,
                orientation_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                state TEXT NOT NULL,
                recipient TEXT,
                distribution_id TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                lease_until BIGINT,
                error_code INTEGER,
                error_cause TEXT,
                sent_at BIGINT,
                acked_at BIGINT,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX hub_deliveries_due ON hub_deliveries (state, next_attempt_at)",
            "CREATE INDEX hub_deliveries_distribution ON hub_deliveries (distribution_id)",
            "CREATE INDEX hub_deliveries_orientation ON hub_deliveries (orientation_id, sequence)",
            // One conformance run at a time per vendor, whatever the node.
            "CREATE UNIQUE INDEX conformance_runs_running ON conformance_runs (editor_id) WHERE state = 'en_cours'",
        ]),
        Migration(12, "SAS agenda write side (weekly series), participation settings, structure settings and managers, delegations", [
            // A weekly series ("récurrence hebdomadaire") in Europe/Paris wall-clock time; its occurrences are rows of
            // agenda_slots (series_id set) expanded when written. An occurrence edited alone leaves the series.
            """
            CREATE TABLE agenda_series (
                id TEXT PRIMARY KEY,
                idnps TEXT NOT NULL REFERENCES dir_practitioners (idnps) ON DELETE CASCADE,
                structure_idnst TEXT,
                site_id BIGINT,
                weekday INTEGER NOT NULL,
                start_minute INTEGER NOT NULL,
                end_minute INTEGER NOT NULL,
                first_day TEXT NOT NULL,
                last_day TEXT NOT NULL,
                consultation_types INTEGER NOT NULL,
                capacity INTEGER NOT NULL,
                exceptions TEXT NOT NULL DEFAULT '',
                created_by TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            )
            """,
            "CREATE INDEX agenda_series_owner ON agenda_series (idnps)",
            "ALTER TABLE agenda_slots ADD COLUMN series_id TEXT",
            "ALTER TABLE agenda_slots ADD COLUMN structure_idnst TEXT",
            "ALTER TABLE agenda_slots ADD COLUMN created_by TEXT",
            "CREATE INDEX agenda_slots_series ON agenda_slots (series_id)",
            "CREATE INDEX agenda_slots_structure ON agenda_slots (structure_idnst, start_at)",
            // Participation settings the practitioner (or his delegate) keeps himself.
            "ALTER TABLE dir_practitioners ADD COLUMN on_vacation INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE dir_practitioners ADD COLUMN hours_per_week INTEGER",
            "ALTER TABLE dir_practitioners ADD COLUMN additional_info TEXT",
            "ALTER TABLE dir_practitioners ADD COLUMN settings_version INTEGER NOT NULL DEFAULT 1",
            """
            CREATE TABLE structure_settings (
                idnst TEXT PRIMARY KEY,
                participates INTEGER NOT NULL,
                hours_per_week INTEGER,
                additional_info TEXT,
                updated_by TEXT NOT NULL,
                updated_at BIGINT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1
            )
            """,
            """
            CREATE TABLE structure_managers (
                account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                idnst TEXT NOT NULL,
                granted_by TEXT NOT NULL,
                granted_at BIGINT NOT NULL,
                PRIMARY KEY (account_id, idnst)
            )
            """,
            // A structure's invitation to a practitioner: he becomes a member when he accepts.
            """
            CREATE TABLE structure_invitations (
                idnst TEXT NOT NULL,
                idnps TEXT NOT NULL REFERENCES dir_practitioners (idnps) ON DELETE CASCADE,
                invited_by TEXT NOT NULL,
                invited_at BIGINT NOT NULL,
                PRIMARY KEY (idnst, idnps)
            )
            """,
            // A delegate (secretary) acting on an agenda: owner is "idnps:<IDNPS>" or "idnst:<IDNST>".
            """
            CREATE TABLE agenda_delegations (
                id TEXT PRIMARY KEY,
                owner TEXT NOT NULL,
                delegate_account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
                granted_by TEXT NOT NULL,
                granted_at BIGINT NOT NULL,
                revoked_by TEXT,
                revoked_at BIGINT
            )
            """,
            "CREATE UNIQUE INDEX agenda_delegations_active ON agenda_delegations (owner, delegate_account_id) WHERE revoked_at IS NULL",
            "CREATE INDEX agenda_delegations_delegate ON agenda_delegations (delegate_account_id)",
        ]),
        // Each change of a practitioner (workspace, enrichment) makes every node patch its directory index: the
        // latest `updated_at` and the rows changed since the last patch were full scans of both tables.
        Migration(13, "directory: updated_at indexes for the incremental index patch", [
            "CREATE INDEX dir_practitioners_updated ON dir_practitioners (updated_at)",
            "CREATE INDEX dir_sites_updated ON dir_sites (updated_at)",
        ]),
    ]
}
