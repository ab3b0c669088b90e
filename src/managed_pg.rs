//! A private PostgreSQL cluster that the service starts and stops itself, so `cargo run`
//! needs no database setup.
//!
//! The cluster lives in a data directory (by default `./.followup/pg`), created with
//! `initdb` on first use. It listens only on a Unix socket inside that directory, which
//! only its owner (and root) can enter, so no other local user can reach it and no TCP
//! port is taken. PostgreSQL refuses to run as root; when the service runs as root the
//! cluster's processes run as the `postgres` system user, owning the directory.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Gid, Pid, Uid, User};
use sqlx::postgres::PgConnectOptions;

/// The port number in the socket's name; no TCP port is opened.
const SOCKET_PORT: u16 = 5432;
/// The database the service uses inside the cluster.
pub const DATABASE: &str = "followup";

/// Why the managed cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ManagedPgError {
    /// No server binaries were found.
    #[error(
        "no PostgreSQL server binaries found (looked for initdb and postgres on PATH and in /usr/lib/postgresql/*/bin).\n\
         Install PostgreSQL 15 or newer (Debian/Ubuntu: apt-get install postgresql), \
         or point DATABASE_URL at an existing server, or run `docker compose up`."
    )]
    BinariesNotFound,
    /// Running as root but there is no `postgres` user to run the cluster as.
    #[error(
        "running as root, and PostgreSQL refuses root, but there is no 'postgres' system user to run it as; create one or set DATABASE_URL"
    )]
    NoPostgresUser,
    /// A command failed.
    #[error("{what} failed: {detail}")]
    Command {
        /// What was attempted.
        what: String,
        /// Its output or error.
        detail: String,
    },
    /// The server did not accept connections in time.
    #[error("PostgreSQL did not start within {0:?}; see {1}")]
    StartTimeout(Duration, PathBuf),
    /// A file system error.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
}

/// Where to find the server binaries: `PATH` first, then the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_binaries() -> Option<PathBuf> {
    find_binaries_in(std::env::var_os("PATH").as_deref(), Path::new("/usr/lib/postgresql"))
}

/// [`find_binaries`] with the search path and the versioned install root given.
fn find_binaries_in(path: Option<&std::ffi::OsStr>, versions_root: &Path) -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(path) = path
        && let Some(dir) = std::env::split_paths(path).find(|d| has_server(d))
    {
        return Some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir(versions_root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// The user the cluster runs as: ourselves, or `postgres` when we are root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: Uid,
    gid: Gid,
}

impl RunAs {
    fn detect() -> Result<Option<Self>, ManagedPgError> {
        if !Uid::effective().is_root() {
            return Ok(None);
        }
        let user = User::from_name("postgres").ok().flatten().ok_or(ManagedPgError::NoPostgresUser)?;
        Ok(Some(Self { uid: user.uid, gid: user.gid }))
    }
}

fn command(binary: PathBuf, run_as: Option<RunAs>) -> Command {
    let mut cmd = Command::new(binary);
    // Only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if let Some(RunAs { uid, gid }) = run_as {
                // Drop root completely, groups too, as runuser would.
                nix::unistd::setgroups(&[gid]).map_err(io::Error::from)?;
                nix::unistd::setgid(gid).map_err(io::Error::from)?;
                nix::unistd::setuid(uid).map_err(io::Error::from)?;
            }
            // After setuid, which clears it: the server stops if its starter dies.
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(io::Error::from)?;
            Ok(())
        });
    }
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<(), ManagedPgError> {
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ManagedPgError::Command { what: what.into(), detail: e.to_string() })?;
    if output.status.success() {
        return Ok(());
    }
    Err(ManagedPgError::Command {
        what: what.into(),
        detail: format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
    })
}

fn chown_recursive(path: &Path, run_as: RunAs) -> io::Result<()> {
    nix::unistd::chown(path, Some(run_as.uid), Some(run_as.gid)).map_err(io::Error::from)?;
    if path.is_dir() {
        for entry in fs::read_dir(path)? {
            chown_recursive(&entry?.path(), run_as)?;
        }
    }
    Ok(())
}

fn pid_alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
}

/// The postmaster pid recorded in the data directory, if that process is alive.
fn running_postmaster(data: &Path) -> Option<i32> {
    let text = fs::read_to_string(data.join("postmaster.pid")).ok()?;
    let pid = text.lines().next()?.trim().parse().ok()?;
    pid_alive(pid).then_some(pid)
}

/// A running managed cluster. Stopped on drop if this handle owns it.
///
/// The cluster's postmaster also receives SIGINT (a fast, clean shutdown) if the thread
/// that started it dies, so a crashed test run or service leaves no server behind: start
/// it from a thread that lives as long as the handle (the main thread, or a test's own).
#[derive(Debug)]
pub struct ManagedPostgres {
    bin: PathBuf,
    run_as: Option<RunAs>,
    root: PathBuf,
    data: PathBuf,
    child: Option<Child>,
    attached_pid: Option<i32>,
    own: bool,
    durable: bool,
}

impl ManagedPostgres {
    /// Starts the cluster in `root/pg` (creating it on first use), or attaches to the one
    /// already running there. With `own`, this handle stops the cluster when dropped even
    /// if it attached (the service owns its cluster); a command-line tool that attaches
    /// leaves a running service's cluster alone.
    ///
    /// The cluster is durable: a commit the service acknowledged survives a crash of
    /// PostgreSQL or of the machine.
    pub fn start(root: &Path, own: bool) -> Result<Self, ManagedPgError> {
        Self::start_with(root, own, true)
    }

    /// Starts (or attaches to) an owned cluster that trades durability for speed: commits
    /// are not flushed to disk before they are acknowledged. Only for throwaway data, such
    /// as the test suite's databases.
    pub fn start_throwaway(root: &Path) -> Result<Self, ManagedPgError> {
        Self::start_with(root, true, false)
    }

    fn start_with(root: &Path, own: bool, durable: bool) -> Result<Self, ManagedPgError> {
        let bin = find_binaries().ok_or(ManagedPgError::BinariesNotFound)?;
        let run_as = RunAs::detect()?;
        fs::create_dir_all(root).map_err(|e| ManagedPgError::Io(format!("creating {}", root.display()), e))?;
        let root = root.canonicalize().map_err(|e| ManagedPgError::Io(format!("resolving {}", root.display()), e))?;
        let data = root.join("pg");
        if run_as.is_some() {
            // The postgres user must be able to reach its data directory.
            fs::set_permissions(&root, fs::Permissions::from_mode(0o755))
                .map_err(|e| ManagedPgError::Io(format!("opening {}", root.display()), e))?;
        }
        let mut this = Self { bin, run_as, root, data, child: None, attached_pid: None, own, durable };
        if let Some(pid) = running_postmaster(&this.data) {
            tracing::info!(pid, data = %this.data.display(), "attaching to the managed PostgreSQL already running");
            this.attached_pid = Some(pid);
            return Ok(this);
        }
        if !this.data.join("PG_VERSION").exists() {
            this.init()?;
        }
        this.own = true;
        this.spawn()?;
        Ok(this)
    }

    fn init(&self) -> Result<(), ManagedPgError> {
        let data = &self.data;
        fs::create_dir_all(data).map_err(|e| ManagedPgError::Io(format!("creating {}", data.display()), e))?;
        fs::set_permissions(data, fs::Permissions::from_mode(0o700))
            .map_err(|e| ManagedPgError::Io("chmod".into(), e))?;
        if let Some(run_as) = self.run_as {
            chown_recursive(data, run_as).map_err(|e| ManagedPgError::Io(format!("chown {}", data.display()), e))?;
        }
        let mut cmd = command(self.bin.join("initdb"), self.run_as);
        cmd.arg("-D").arg(data).args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
        run(cmd, "initdb")
    }

    fn log_path(&self) -> PathBuf {
        self.root.join("pg.log")
    }

    fn spawn(&mut self) -> Result<(), ManagedPgError> {
        let log = self.log_path();
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| ManagedPgError::Io(format!("opening {}", log.display()), e))?;
        if let Some(run_as) = self.run_as {
            nix::unistd::chown(&log, Some(run_as.uid), Some(run_as.gid))
                .map_err(|e| ManagedPgError::Io(format!("chown {}", log.display()), e.into()))?;
        }
        let mut cmd = command(self.bin.join("postgres"), self.run_as);
        cmd.arg("-D")
            .arg(&self.data)
            .args(["-c", "listen_addresses="])
            .arg("-c")
            .arg(format!("unix_socket_directories={}", self.data.display()))
            .args(["-c", &format!("port={SOCKET_PORT}")])
            .args(["-c", "max_connections=300"]);
        if !self.durable {
            cmd.args(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| ManagedPgError::Io("log".into(), e))?)
            .stderr(log_file)
            // Its own process group: a Ctrl-C in the terminal reaches the service, which
            // then stops the cluster in order, rather than both at once.
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| ManagedPgError::Command { what: "starting postgres".into(), detail: e.to_string() })?;
        self.child = Some(child);
        self.wait_ready(Duration::from_secs(60))
    }

    fn wait_ready(&mut self, limit: Duration) -> Result<(), ManagedPgError> {
        let socket = self.data.join(format!(".s.PGSQL.{SOCKET_PORT}"));
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(ManagedPgError::Command {
                    what: "postgres".into(),
                    detail: format!("exited with {status}; see {}", self.log_path().display()),
                });
            }
            // The postmaster writes "ready" on its pid file's 8th line once it accepts
            // connections.
            let ready = fs::read_to_string(self.data.join("postmaster.pid"))
                .map(|pid| pid.lines().nth(7).is_some_and(|status| status.trim() == "ready"))
                .unwrap_or(false);
            if ready && socket.exists() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        Err(ManagedPgError::StartTimeout(limit, self.log_path()))
    }

    /// Options to connect to `database` in this cluster as the superuser.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        PgConnectOptions::new().socket(&self.data).port(SOCKET_PORT).username("postgres").database(database)
    }

    /// A URL for `database`, for display and for tools such as psql.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@localhost/{database}?host={}&port={SOCKET_PORT}", self.data.display())
    }

    fn pid(&self) -> Option<i32> {
        self.child.as_ref().map(|c| c.id() as i32).or(self.attached_pid)
    }

    fn wait_gone(&mut self, pid: i32, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let gone = match &mut self.child {
                Some(child) => child.try_wait().map(|s| s.is_some()).unwrap_or(true),
                None => !pid_alive(pid),
            };
            if gone || Instant::now() > deadline {
                return gone;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the cluster with a fast shutdown (open transactions roll back), waiting up
    /// to 30 seconds before forcing it.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGINT);
            if !self.wait_gone(pid, Duration::from_secs(30)) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGQUIT);
                self.wait_gone(pid, Duration::from_secs(5));
            }
        }
        self.child = None;
        self.attached_pid = None;
    }

    /// Kills the postmaster at once (SIGKILL), as a crash would; for fault tests.
    pub fn kill(&mut self) {
        if let Some(pid) = self.pid() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            self.wait_gone(pid, Duration::from_secs(5));
        }
        self.child = None;
        self.attached_pid = None;
    }

    /// Starts the cluster again after [`stop`](Self::stop) or [`kill`](Self::kill).
    ///
    /// After a kill, the dead postmaster's backends may hold its shared memory for a
    /// moment and PostgreSQL refuses to start; so this retries for a while.
    pub fn restart(&mut self) -> Result<(), ManagedPgError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(error) if Instant::now() > deadline => return Err(error),
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }
}

impl Drop for ManagedPostgres {
    fn drop(&mut self) {
        if self.own {
            self.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_newest_installed_version_or_says_what_to_do() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(find_binaries_in(Some(std::ffi::OsStr::new("")), root.path()), None);
        for version in ["13", "15"] {
            let bin = root.path().join(version).join("bin");
            fs::create_dir_all(&bin).unwrap();
            for tool in ["initdb", "postgres"] {
                fs::write(bin.join(tool), "").unwrap();
            }
        }
        assert_eq!(find_binaries_in(None, root.path()), Some(root.path().join("15/bin")));
        // With none found, the message names the three ways forward.
        let message = ManagedPgError::BinariesNotFound.to_string();
        for hint in ["apt-get install postgresql", "DATABASE_URL", "docker compose up"] {
            assert!(message.contains(hint), "{message}");
        }
    }
}
