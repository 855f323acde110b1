//! `rasp serve [DIR] [--port N]`: the playground (or any folder of static
//! files) over HTTP on 127.0.0.1, for local use. A small server on the
//! standard library: GET and HEAD of files inside DIR, nothing else.

use clap::Args;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Serve a folder of static files (by default the playground, web/dist) on
/// 127.0.0.1.
///
/// Only this machine can connect. Files are sent with their MIME type
/// (`application/wasm` for WebAssembly, as browsers require for streaming
/// compilation); a folder serves its index.html; nothing outside DIR is
/// served. Prints the address and serves until interrupted (Ctrl-C); it
/// opens no browser. Build the playground first with ./web/build.sh.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The folder to serve.
    #[arg(default_value = "web/dist")]
    dir: PathBuf,
    /// The port to listen on (0: any free port; the address printed says which).
    #[arg(long, default_value_t = 8000)]
    port: u16,
}

/// Requests whose head (request line and headers) is longer are refused.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// A connection that sends nothing for this long is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: ServeArgs) -> ExitCode {
    let root = match args.dir.canonicalize() {
        Ok(root) if root.is_dir() => root,
        Ok(_) | Err(_) => {
            let hint = if args.dir == Path::new("web/dist") {
                " (build the playground first: ./web/build.sh, from the repository root)"
            } else {
                ""
            };
            eprintln!("rasp serve: {} is not a folder{hint}", args.dir.display());
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, args.port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("rasp serve: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    println!("Serving {} at http://127.0.0.1:{port}/ (Ctrl-C to stop)", root.display());
    let _ = std::io::stdout().flush();
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let root = root.clone();
        // One thread per connection: a slow client does not hold up others.
        std::thread::spawn(move || {
            let _ = handle(stream, &root);
        });
    }
    ExitCode::SUCCESS
}

/// Answers one request and closes the connection.
fn handle(stream: TcpStream, root: &Path) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let head = match read_head(&mut reader) {
        Ok(head) => head,
        Err(_) => return respond(stream, 400, "Bad Request", "text/plain; charset=utf-8", b"bad request\n", true),
    };
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let with_body = method == "GET";
    if !with_body && method != "HEAD" {
        return respond(stream, 405, "Method Not Allowed", "text/plain; charset=utf-8", b"GET or HEAD only\n", true);
    }
    match resolve(root, target) {
        Resolved::File(path) => match std::fs::read(&path) {
            Ok(bytes) => respond(stream, 200, "OK", mime_type(&path), &bytes, with_body),
            Err(_) => respond(stream, 404, "Not Found", "text/plain; charset=utf-8", b"not found\n", with_body),
        },
        Resolved::Missing => respond(stream, 404, "Not Found", "text/plain; charset=utf-8", b"not found\n", with_body),
        Resolved::Outside => respond(
            stream,
            403,
            "Forbidden",
            "text/plain; charset=utf-8",
            b"only files inside the served folder\n",
            with_body,
        ),
    }
}

/// The request line and headers, up to the empty line.
fn read_head(reader: &mut impl BufRead) -> Result<String, ()> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let read = reader.by_ref().take((MAX_HEAD_BYTES - head.len()) as u64).read_line(&mut line).map_err(|_| ())?;
        if read == 0 || !line.ends_with('\n') {
            return Err(());
        }
        if line.trim_end().is_empty() {
            return Ok(head);
        }
        head.push_str(&line);
    }
}

fn respond(
    mut stream: TcpStream,
    code: u16,
    reason: &str,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         X-Content-Type-Options: nosniff\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// What a request target names.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    File(PathBuf),
    Missing,
    /// Outside the folder (`..`, an absolute path, a link leading out).
    Outside,
}

/// The file `target` (`/path?query`) names inside `root` (canonical): a
/// folder means its index.html.
fn resolve(root: &Path, target: &str) -> Resolved {
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(decoded) = percent_decode(path) else {
        return Resolved::Missing;
    };
    if !decoded.starts_with('/') || decoded.contains(['\\', '\0']) {
        return Resolved::Outside;
    }
    let mut relative = PathBuf::new();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Resolved::Outside,
        }
    }
    let mut full = root.join(relative);
    if full.is_dir() {
        full.push("index.html");
    }
    match full.canonicalize() {
        // A symbolic link inside the folder may still point out of it.
        Ok(real) if !real.starts_with(root) => Resolved::Outside,
        Ok(real) if real.is_file() => Resolved::File(real),
        Ok(_) | Err(_) => Resolved::Missing,
    }
}

/// `%2F` and friends decoded; `None` when the escapes are malformed or the
/// result is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type of a file, by its extension.
fn mime_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json" | "map") => "application/json",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("ico") => "image/x-icon",
        Some("webp") => "image/webp",
        Some("woff2") => "font/woff2",
        Some("txt" | "rasp" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::{Resolved, mime_type, percent_decode, resolve};
    use std::path::Path;

    #[test]
    fn types() {
        assert_eq!(mime_type(Path::new("a/rasp_web_bg.wasm")), "application/wasm");
        assert_eq!(mime_type(Path::new("index.HTML")), "text/html; charset=utf-8");
        assert_eq!(mime_type(Path::new("main.js")), "text/javascript; charset=utf-8");
        assert_eq!(mime_type(Path::new("noextension")), "application/octet-stream");
    }

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("/%2e%2E/x").as_deref(), Some("/../x"));
        assert_eq!(percent_decode("/%zz"), None);
        assert_eq!(percent_decode("/%2"), None);
    }

    #[test]
    fn only_inside_the_root() {
        let root = std::env::temp_dir().join(format!("rasp-serve-unit-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sub")).expect("dir");
        std::fs::write(root.join("index.html"), "hi").expect("write");
        std::fs::write(root.join("sub/x.js"), "x").expect("write");
        let root = root.canonicalize().expect("canonical");
        assert_eq!(resolve(&root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(resolve(&root, "/sub/x.js?v=1"), Resolved::File(root.join("sub/x.js")));
        assert_eq!(resolve(&root, "/sub/./x.js"), Resolved::File(root.join("sub/x.js")));
        assert_eq!(resolve(&root, "/nope.js"), Resolved::Missing);
        assert_eq!(resolve(&root, "/sub"), Resolved::Missing);
        assert_eq!(resolve(&root, "/../Cargo.toml"), Resolved::Outside);
        assert_eq!(resolve(&root, "/sub/../../x"), Resolved::Outside);
        assert_eq!(resolve(&root, "/%2e%2e/x"), Resolved::Outside);
        assert_eq!(resolve(&root, "/..%2fx"), Resolved::Outside);
        assert_eq!(resolve(&root, "//etc/passwd"), Resolved::Missing);
        assert_eq!(resolve(&root, "/a\\..\\b"), Resolved::Outside);
        assert_eq!(resolve(&root, "http://example.org/"), Resolved::Outside);
        let _ = std::fs::remove_dir_all(&root);
    }
}
