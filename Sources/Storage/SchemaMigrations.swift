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
    ]
}
