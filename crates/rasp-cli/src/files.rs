//! Writing what the user asked for, the same way in every subcommand:
//! parent directories are created, files are written atomically (a crash or
//! a full disk leaves the old file, never half a new one), and an output's
//! extension must be one the subcommand can write.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// renamed over `path` once complete. Creates missing parent directories.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let fail = |what: &str, e: std::io::Error| format!("cannot {what} {}: {e}", path.display());
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        Some(_) | None => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let file_name = path.file_name().ok_or_else(|| format!("{} is not a file path", path.display()))?;
    let temporary = dir.join(format!(".{}.{}.tmp", file_name.to_string_lossy(), std::process::id()));
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail("write", e));
    }
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        fail("write", e)
    })
}

/// The lower-case extension of `path` if it is one of `allowed`, else an
/// error naming them (`draw -o picture.png`: "write .svg or .html").
pub fn output_extension(path: &Path, allowed: &[&'static str]) -> Result<&'static str, String> {
    let extension = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase());
    allowed.iter().copied().find(|wanted| extension.as_deref() == Some(*wanted)).ok_or_else(|| {
        let names: Vec<String> = allowed.iter().map(|e| format!(".{e}")).collect();
        format!("{}: the output must end in {}", path.display(), names.join(" or "))
    })
}

/// Prints to stdout. A failed write (a full disk, a closed pipe) is an
/// error the caller turns into a non-zero exit status: output the user
/// redirected must never be lost silently.
pub fn say(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to standard output: {e}"))
}

/// [`say`], then the exit status: success, or failure with the error on stderr.
pub fn say_then_exit(text: &str) -> std::process::ExitCode {
    match say(text) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rasp: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{output_extension, write_atomic};

    #[test]
    fn extensions_choose_the_format_and_others_are_refused() {
        let allowed = &["svg", "html"];
        assert_eq!(output_extension("a/b.SVG".as_ref(), allowed), Ok("svg"));
        assert_eq!(output_extension("b.html".as_ref(), allowed), Ok("html"));
        let refused = output_extension("b.png".as_ref(), allowed);
        assert_eq!(refused, Err("b.png: the output must end in .svg or .html".to_string()));
        assert!(output_extension("noext".as_ref(), allowed).is_err());
    }

    #[test]
    fn atomic_write_creates_directories_and_replaces_whole_files() {
        let dir = std::env::temp_dir().join(format!("rasp-files-test-{}", std::process::id()));
        let path = dir.join("deeper").join("out.txt");
        write_atomic(&path, b"first").expect("first write");
        write_atomic(&path, b"second").expect("second write");
        assert_eq!(std::fs::read(&path).expect("read back"), b"second");
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
            .expect("list")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
