//! The migration folders: the same changes for both backends, and every `down.sql` undoes its
//! `up.sql`.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use std::path::Path;

fn migration_names(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read(backend: &str, name: &str, file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend)
        .join(name)
        .join(file);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn both_backends_have_the_same_migrations() {
    assert_eq!(migration_names("sqlite"), migration_names("postgres"));
    assert!(!migration_names("sqlite").is_empty());
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[test]
fn sqlite_down_undoes_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = SqliteConnection::establish(dir.path().join("m.db").to_str().unwrap()).unwrap();
    let count = |conn: &mut SqliteConnection| {
        diesel::sql_query("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
            .get_result::<Count>(conn)
            .unwrap()
            .n
    };
    let names = migration_names("sqlite");
    for name in &names {
        conn.batch_execute(&read("sqlite", name, "up.sql")).unwrap();
    }
    assert!(count(&mut conn) > 0);
    for name in names.iter().rev() {
        conn.batch_execute(&read("sqlite", name, "down.sql"))
            .unwrap();
    }
    assert_eq!(count(&mut conn), 0, "down.sql left objects behind");
}

#[test]
fn postgres_down_undoes_up() {
    let Ok(admin_url) = std::env::var("HELPDESK_TEST_DATABASE") else {
        return; // The SQLite run; the PostgreSQL run of CI sets the variable.
    };
    if !admin_url.starts_with("postgres") {
        return;
    }
    let name = format!("helpdesk_migr_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::establish(&admin_url).unwrap();
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .unwrap();
    let url = format!("{}/{name}", admin_url.rsplit_once('/').unwrap().0);
    let objects = "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                   WHERE n.nspname = 'public') + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n \
                   ON n.oid = p.pronamespace WHERE n.nspname = 'public') AS n";
    {
        let mut conn = PgConnection::establish(&url).unwrap();
        let names = migration_names("postgres");
        for migration in &names {
            conn.batch_execute(&read("postgres", migration, "up.sql"))
                .unwrap();
        }
        assert!(
            diesel::sql_query(objects)
                .get_result::<Count>(&mut conn)
                .unwrap()
                .n
                > 0
        );
        for migration in names.iter().rev() {
            conn.batch_execute(&read("postgres", migration, "down.sql"))
                .unwrap();
        }
        let left = diesel::sql_query(objects)
            .get_result::<Count>(&mut conn)
            .unwrap()
            .n;
        assert_eq!(left, 0, "down.sql left objects behind");
    }
    diesel::sql_query(format!("DROP DATABASE {name} WITH (FORCE)"))
        .execute(&mut admin)
        .unwrap();
}
