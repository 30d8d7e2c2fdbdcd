use super::*;
use object::elf::{ET_DYN, STB_GLOBAL, STT_FUNC};
use object::write::elf::{FileHeader as WriteHeader, Sym as WriteSym, Vernaux, Verneed, Writer};

/// A minimal 64-bit ELF: dynamic symbols `(name, glibc version)`, each bound to its version
/// through `.gnu.version` and `.gnu.version_r`, as a linker would write them.
fn crafted(machine: u16, symbols: &[(&str, &str)]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = Writer::new(Endianness::Little, true, &mut buf);
    w.reserve_file_header();
    w.reserve_null_section_index();
    let libc = w.add_dynamic_string(b"libc.so.6");
    let mut versions: Vec<&str> = symbols.iter().map(|(_, v)| *v).collect();
    versions.sort();
    versions.dedup();
    let version_ids: Vec<_> = versions
        .iter()
        .map(|v| w.add_dynamic_string(v.as_bytes()))
        .collect();
    let symbol_ids: Vec<_> = symbols
        .iter()
        .map(|(n, _)| w.add_dynamic_string(n.as_bytes()))
        .collect();
    w.reserve_dynsym_section_index();
    w.reserve_dynstr_section_index();
    w.reserve_gnu_versym_section_index();
    w.reserve_gnu_verneed_section_index();
    w.reserve_shstrtab_section_index();
    w.reserve_null_dynamic_symbol_index();
    for _ in symbols {
        w.reserve_dynamic_symbol_index();
    }
    w.reserve_dynsym();
    w.reserve_dynstr();
    w.reserve_gnu_versym();
    w.reserve_gnu_verneed(1, versions.len());
    w.reserve_shstrtab();
    w.reserve_section_headers();

    w.write_file_header(&WriteHeader {
        os_abi: 0,
        abi_version: 0,
        e_type: ET_DYN,
        e_machine: machine,
        e_entry: 0,
        e_flags: 0,
    })
    .unwrap();
    w.write_null_dynamic_symbol();
    for id in &symbol_ids {
        w.write_dynamic_symbol(&WriteSym {
            name: Some(*id),
            section: None,
            st_info: (STB_GLOBAL << 4) | STT_FUNC,
            st_other: 0,
            st_shndx: 0,
            st_value: 0,
            st_size: 0,
        });
    }
    w.write_dynstr();
    w.write_null_gnu_versym();
    for (_, v) in symbols {
        let index = versions.iter().position(|x| x == v).unwrap() as u16 + 2;
        w.write_gnu_versym(index);
    }
    w.write_align_gnu_verneed();
    w.write_gnu_verneed(&Verneed {
        version: 1,
        aux_count: versions.len() as u16,
        file: libc,
    });
    for (i, id) in version_ids.iter().enumerate() {
        w.write_gnu_vernaux(&Vernaux {
            flags: 0,
            index: i as u16 + 2,
            name: *id,
        });
    }
    w.write_shstrtab();
    w.write_null_section_header();
    w.write_dynsym_section_header(0, 1);
    w.write_dynstr_section_header(0);
    w.write_gnu_versym_section_header(0);
    w.write_gnu_verneed_section_header(0);
    w.write_shstrtab_section_header();
    buf
}

fn run(data: &[u8], requested: Architecture) -> Result<ElfInfo, ElfError> {
    check_bytes(data, Path::new("target/bin/f"), "/api/hello", requested)
}

#[test]
fn glibc_versions_parse_and_order() {
    assert_eq!(
        GlibcVersion::parse("GLIBC_2.34"),
        Some(GlibcVersion(2, 34, 0))
    );
    assert_eq!(
        GlibcVersion::parse("GLIBC_2.2.5"),
        Some(GlibcVersion(2, 2, 5))
    );
    assert_eq!(GlibcVersion::parse("GLIBC_PRIVATE"), None);
    assert_eq!(GlibcVersion::parse("GCC_3.0"), None);
    assert_eq!(GlibcVersion::parse("GLIBC_2.3.4.5"), None);
    assert!(GlibcVersion(2, 3, 4) < GlibcVersion(2, 34, 0));
    assert!(GlibcVersion(2, 34, 0) < GlibcVersion(2, 34, 1));
    assert_eq!(GlibcVersion(2, 2, 5).to_string(), "2.2.5");
    assert_eq!(LAMBDA_GLIBC.to_string(), "2.34");
}

#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[test]
fn the_test_binary_itself_passes() {
    // Built on this host: needs some glibc, at most what the host has; its arch is x86_64.
    let exe = std::env::current_exe().unwrap();
    let data = std::fs::read(&exe).unwrap();
    let max = match run(&data, Architecture::X86_64) {
        Ok(info) => {
            assert_eq!(info.architecture, Architecture::X86_64);
            info.max_glibc
        }
        // A host newer than Lambda: the check must say so, with real symbol names.
        Err(ElfError::GlibcTooNew { found, symbols, .. }) => {
            assert!(!symbols.is_empty());
            Some(found)
        }
        Err(e) => panic!("{e}"),
    };
    assert!(max.is_some_and(|v| v >= GlibcVersion(2, 2, 5)));
    let err = run(&data, Architecture::Arm64).unwrap_err();
    assert!(matches!(err, ElfError::WrongArchitecture { ref found, .. } if found == "x86-64"));
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_system_binary_is_read() {
    let Ok(info) = check(Path::new("/bin/ls"), "/api/ls", Architecture::X86_64) else {
        return; // a newer-than-Lambda host: covered by the crafted cases
    };
    assert_eq!(info.architecture, Architecture::X86_64);
    assert!(info.max_glibc.is_some());
}

#[test]
fn a_binary_within_lambdas_glibc_passes() {
    let data = crafted(
        EM_X86_64,
        &[
            ("memcpy", "GLIBC_2.14"),
            ("getrandom", "GLIBC_2.25"),
            ("malloc", "GLIBC_2.2.5"),
        ],
    );
    let info = run(&data, Architecture::X86_64).unwrap();
    assert_eq!(info.max_glibc, Some(GlibcVersion(2, 25, 0)));
    let data = crafted(EM_AARCH64, &[("__libc_start_main", "GLIBC_2.34")]);
    let info = run(&data, Architecture::Arm64).unwrap();
    assert_eq!(info.architecture, Architecture::Arm64);
    assert_eq!(info.max_glibc, Some(LAMBDA_GLIBC));
}

#[test]
fn a_newer_glibc_is_refused_with_the_symbols_and_the_fix() {
    let data = crafted(
        EM_X86_64,
        &[
            ("malloc", "GLIBC_2.2.5"),
            ("__isoc23_strtol", "GLIBC_2.38"),
            ("__isoc23_sscanf", "GLIBC_2.38"),
            ("__libc_start_main", "GLIBC_2.34"),
        ],
    );
    let err = run(&data, Architecture::X86_64).unwrap_err();
    let ElfError::GlibcTooNew { found, symbols, .. } = &err else {
        panic!("{err}");
    };
    assert_eq!(*found, GlibcVersion(2, 38, 0));
    assert_eq!(symbols, &["__isoc23_sscanf", "__isoc23_strtol"]);
    assert_eq!(
        err.to_string(),
        "/api/hello: target/bin/f needs GLIBC_2.38 (for `__isoc23_sscanf`, `__isoc23_strtol`), but \
         Lambda's provided.al2023 has glibc 2.34, so the function would fail to start. Link against \
         Lambda's glibc with cargo-zigbuild: `pip install ziglang cargo-zigbuild`, then build with \
         `NEXTR_ZIGBUILD=1` set (nextr then runs `cargo zigbuild --target \
         x86_64-unknown-linux-gnu.2.34`)"
    );
    let arm = crafted(EM_AARCH64, &[("f", "GLIBC_2.39")]);
    let err = run(&arm, Architecture::Arm64).unwrap_err().to_string();
    assert!(
        err.contains("--target aarch64-unknown-linux-gnu.2.34"),
        "{err}"
    );
}

#[test]
fn the_wrong_architecture_is_refused() {
    let data = crafted(EM_AARCH64, &[("malloc", "GLIBC_2.17")]);
    let err = run(&data, Architecture::X86_64).unwrap_err();
    assert_eq!(
        err.to_string(),
        "/api/hello: target/bin/f is built for aarch64, but the function is x86_64; build it for \
         x86-64 (`--target x86_64-unknown-linux-gnu`)"
    );
    let data = crafted(object::elf::EM_RISCV, &[]);
    assert!(matches!(
        run(&data, Architecture::X86_64),
        Err(ElfError::WrongArchitecture { found, .. }) if found == "machine 243"
    ));
}

#[test]
fn a_binary_without_glibc_passes() {
    // Statically linked (musl): no version needs at all.
    let data = crafted(EM_X86_64, &[]);
    let info = run(&data, Architecture::X86_64).unwrap();
    assert_eq!(info.max_glibc, None);
}

#[test]
fn non_elf_and_32_bit_files_are_refused() {
    assert!(matches!(
        run(b"#!/bin/sh\necho hi\n", Architecture::X86_64),
        Err(ElfError::NotElf64 { reason, .. }) if reason == "no ELF header"
    ));
    let mut elf32 = crafted(EM_X86_64, &[]);
    elf32[4] = object::elf::ELFCLASS32;
    assert!(matches!(
        run(&elf32, Architecture::X86_64),
        Err(ElfError::NotElf64 { reason, .. }) if reason == "a 32-bit ELF file"
    ));
    let truncated = &crafted(EM_X86_64, &[("f", "GLIBC_2.2.5")])[..40];
    assert!(matches!(
        run(truncated, Architecture::X86_64),
        Err(ElfError::Malformed { .. })
    ));
    let err = check(
        Path::new("/nonexistent/bin"),
        "/api/x",
        Architecture::X86_64,
    )
    .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("/api/x: cannot read the binary /nonexistent/bin"));
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_interpreter_of_a_dynamic_binary_is_its_loader() {
    let exe = std::env::current_exe().unwrap();
    let interp = interpreter(&exe)
        .unwrap()
        .expect("a glibc binary has a loader");
    let name = interp.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("ld-linux"), "{}", interp.display());
    assert!(interp.is_absolute());
    // No program headers at all: no loader to look for.
    let data = crafted(EM_AARCH64, &[("malloc", "GLIBC_2.17")]);
    assert_eq!(interpreter_of(data.as_slice()).unwrap(), None);
}
