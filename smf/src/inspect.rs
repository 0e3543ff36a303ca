//! A human-readable dump of every part of a module, for
//! `simple smf inspect` and for snapshot tests.
//!
//! The format is stable and line-oriented: one block per part, a title line
//! with the entry count, one line per entry, hex for offsets and sizes.
//! Names come last on a line because they are the only unbounded column.

use std::fmt::Write;

use crate::error::{SmfError, hex};
use crate::format::{VERSION_MAJOR, VERSION_MINOR};
use crate::module::{Module, RelocTarget};
use crate::read::{Header, SectionHeader, read_file, read_header, read_section_table};
use crate::write::write;

/// Dumps `module`. The header and section table shown are those
/// [`crate::write`] produces for it, module hash included.
pub fn inspect(module: &Module) -> String {
    let bytes = write(module);
    let layout = read_header(&bytes).ok().and_then(|header| {
        let sections = read_section_table(&bytes, &header).ok()?;
        Some((header, sections))
    });
    match &layout {
        Some((header, sections)) => render(module, Some(header), sections),
        None => render(module, None, &[]),
    }
}

/// Reads (and so validates) an SMF file and dumps it, showing the header and
/// section table as stored in the file.
pub fn inspect_bytes(bytes: &[u8]) -> Result<String, SmfError> {
    let file = read_file(bytes)?;
    Ok(render(&file.module, Some(&file.header), &file.sections))
}

fn render(module: &Module, header: Option<&Header>, sections: &[SectionHeader]) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = render_into(&mut out, module, header, sections);
    out
}

fn render_into(
    out: &mut String,
    module: &Module,
    header: Option<&Header>,
    sections: &[SectionHeader],
) -> std::fmt::Result {
    let (major, minor) = header.map_or((VERSION_MAJOR, VERSION_MINOR), |h| (h.version_major, h.version_minor));
    writeln!(out, "SMF {major}.{minor}, {} {}", module.platform, module.arch)?;
    writeln!(out, "flags        {}", module.flags)?;
    match module.entry {
        Some(index) => writeln!(out, "entry        symbol {index} {}", symbol_name(module, index))?,
        None => writeln!(out, "entry        none")?,
    }
    writeln!(out, "source hash  {}", hex(&module.source_hash))?;
    if let Some(header) = header {
        writeln!(out, "module hash  {}", hex(&header.module_hash[..16]))?;
        writeln!(out, "file size    {:#x}", header.file_size)?;
    }

    writeln!(out, "\nsections ({})", sections.len())?;
    if !sections.is_empty() {
        writeln!(
            out,
            "  {:<3} {:<11} {:<5} {:<10} {:<10} {:<10} align",
            "#", "name", "flags", "offset", "size", "vsize"
        )?;
    }
    for (i, s) in sections.iter().enumerate() {
        writeln!(
            out,
            "  {:<3} {:<11} {:<5} {:<#10x} {:<#10x} {:<#10x} {}",
            i, s.name, s.flags, s.offset, s.size, s.virtual_size, s.alignment
        )?;
    }

    writeln!(out, "\nsymbols ({})", module.symbols.len())?;
    if !module.symbols.is_empty() {
        writeln!(
            out,
            "  {:<3} {:<8} {:<6} {:<7} {:<8} {:<8} {:<18} {:<32} name",
            "#", "kind", "bind", "section", "offset", "size", "name hash", "content hash"
        )?;
    }
    for (i, s) in module.symbols.iter().enumerate() {
        writeln!(
            out,
            "  {:<3} {:<8} {:<6} {:<7} {:<#8x} {:<#8x} {:#018x} {} {}",
            i,
            s.kind,
            s.binding,
            s.section,
            s.offset,
            s.size,
            crate::fnv1a(s.name.as_bytes()),
            hex(&s.content_hash),
            s.name
        )?;
    }

    writeln!(out, "\nrelocations ({})", module.relocations.len())?;
    if !module.relocations.is_empty() {
        writeln!(out, "  {:<3} {:<7} {:<8} {:<5} {:<8} target", "#", "section", "offset", "kind", "addend")?;
    }
    for (i, r) in module.relocations.iter().enumerate() {
        let target = match r.target {
            RelocTarget::Symbol(t) => format!("symbol {t} {}", symbol_name(module, t)),
            RelocTarget::Import(t) => format!("import {t} {}", import_name(module, t)),
        };
        writeln!(out, "  {:<3} {:<7} {:<#8x} {:<5} {:<8} {}", i, r.section, r.offset, r.kind, r.addend, target)?;
    }

    writeln!(out, "\nimports ({}), runtime ABI version {}", module.imports.len(), module.abi_version)?;
    for (i, name) in module.imports.iter().enumerate() {
        writeln!(out, "  {i:<3} {name}")?;
    }

    writeln!(out, "\nfiles ({})", module.files.len())?;
    for (i, path) in module.files.iter().enumerate() {
        writeln!(out, "  {i:<3} {path}")?;
    }

    writeln!(out, "\nline table ({})", module.line_table.len())?;
    if !module.line_table.is_empty() {
        writeln!(out, "  {:<11} location", "code offset")?;
    }
    for entry in &module.line_table {
        let file = module.files.get(entry.file as usize).map_or("<bad file>", String::as_str);
        write!(out, "  {:<#11x} {}:{}:{}", entry.code_offset, file, entry.line, entry.column)?;
        match entry.inlined {
            Some(inlined) => {
                let function = module.symbols.get(inlined.function as usize).map_or("<bad symbol>", |s| &s.name);
                writeln!(out, " in {function}, inlined at {}:{}", inlined.line, inlined.column)?
            }
            None => writeln!(out)?,
        }
    }

    writeln!(out, "\ntraps ({})", module.traps.len())?;
    if !module.traps.is_empty() {
        writeln!(out, "  {:<11} code", "code offset")?;
    }
    for trap in &module.traps {
        writeln!(out, "  {:<#11x} {}", trap.code_offset, trap.code)?;
    }

    writeln!(out, "\nstack maps ({})", module.stack_maps.len())?;
    if !module.stack_maps.is_empty() {
        writeln!(out, "  {:<11} {:<10} slots", "code offset", "frame size")?;
    }
    for map in &module.stack_maps {
        let slots: Vec<String> = map.slots.iter().map(|s| format!("{s:#x}")).collect();
        writeln!(out, "  {:<#11x} {:<#10x} {}", map.code_offset, map.frame_size, slots.join(" "))?;
    }
    Ok(())
}

fn symbol_name(module: &Module, index: u32) -> String {
    match module.symbols.get(index as usize) {
        Some(symbol) => format!("`{}`", symbol.name),
        None => "<out of range>".to_owned(),
    }
}

fn import_name(module: &Module, index: u32) -> String {
    match module.imports.get(index as usize) {
        Some(name) => format!("`{name}`"),
        None => "<out of range>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::sample_module;

    #[test]
    fn dumps_every_part() {
        insta::assert_snapshot!(inspect(&sample_module()));
    }

    #[test]
    fn dumps_a_file_as_stored() {
        let module = sample_module();
        assert_eq!(inspect_bytes(&write(&module)), Ok(inspect(&module)));
        assert!(inspect_bytes(b"SMF").is_err());
    }

    #[test]
    fn dumps_an_invalid_model_without_panicking() {
        let mut module = sample_module();
        module.entry = Some(99);
        module.relocations[0].target = RelocTarget::Import(99);
        module.line_table[0].file = 99;
        let dump = inspect(&module);
        assert!(dump.contains("entry        symbol 99 <out of range>"), "{dump}");
        assert!(dump.contains("import 99 <out of range>"), "{dump}");
        assert!(dump.contains("<bad file>:1:1"), "{dump}");
    }
}
