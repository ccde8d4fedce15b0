#!/usr/bin/env python3
"""Let a prebuilt shared library load against an older libstdc++ when what it lacks is a requirement on paper only.

TorchSharp 0.107.0's libLibTorchSharp.so was linked against GCC 13's libstdc++ and so requires the symbol version
GLIBCXX_3.4.32, which Debian 12's libstdc++ (GCC 12, up to GLIBCXX_3.4.30) does not define: the loader refuses the
library. The only symbol of that version it names is std::ios_base_library_init(), which GCC 13's <iostream> lists
without ever calling it (no relocation refers to it), so nothing would be looked up under that version.

For every libstdc++ version that LIBRARY requires and the host's libstdc++ does not define, this script checks that
no relocation of LIBRARY refers to a symbol of that version, and then sets VER_FLG_WEAK on the requirement: the loader
then only warns about it. If such a symbol is really used, it refuses and changes nothing, since the library would
fail (or crash) the first time that symbol is called. The file is rewritten through a temporary file and a rename, so
other hard links to it (a package cache) keep the original bytes. Running it again does nothing.

usage: weaken_missing_glibcxx.py LIBRARY [HOST_LIBSTDCXX]
exit status: 0 patched or nothing to do, 1 refused or not a library this script understands, 2 usage error.
"""
import ctypes
import os
import struct
import sys
import tempfile

SHT_REL, SHT_RELA, SHT_DYNSYM = 9, 4, 11
SHT_GNU_VERDEF, SHT_GNU_VERNEED, SHT_GNU_VERSYM = 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
VER_FLG_WEAK = 0x2
VERSYM_HIDDEN = 0x8000


class Elf:
    """The parts of a 64-bit little-endian ELF file that symbol versioning needs."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = bytearray(f.read())
        d = self.data
        if d[:4] != b"\x7fELF":
            raise ValueError(f"{path} is not an ELF file")
        if d[4] != 2 or d[5] != 1:
            raise ValueError(f"{path} is not a 64-bit little-endian ELF file")
        shoff, = struct.unpack_from("<Q", d, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", d, 0x3A)
        # (type, offset, size, link, info, entsize) of each section header
        self.sections = []
        for i in range(shnum):
            _, sh_type, _, _, off, size, link, info, _, entsize = struct.unpack_from("<IIQQQQIIQQ", d, shoff + i * shentsize)
            self.sections.append((sh_type, off, size, link, info, entsize))

    def find(self, sh_type):
        return [i for i, s in enumerate(self.sections) if s[0] == sh_type]

    def string(self, section, offset):
        start = self.sections[section][1] + offset
        return self.data[start:self.data.index(b"\0", start)].decode("ascii", "replace")

    def version_definitions(self):
        """Names of the versions this file defines (.gnu.version_d)."""
        names = set()
        for sec in self.find(SHT_GNU_VERDEF):
            _, off, _, link, count, _ = self.sections[sec]
            p = off
            for _ in range(count):
                _, _, _, _, _, vd_aux, vd_next = struct.unpack_from("<HHHHIII", self.data, p)
                vda_name, _ = struct.unpack_from("<II", self.data, p + vd_aux)
                names.add(self.string(link, vda_name))
                if vd_next == 0:
                    break
                p += vd_next
        return names

    def version_requirements(self):
        """(needed file, version name, version index, file offset of vna_flags, flags) of each required version."""
        result = []
        for sec in self.find(SHT_GNU_VERNEED):
            _, off, _, link, count, _ = self.sections[sec]
            p = off
            for _ in range(count):
                _, vn_cnt, vn_file, vn_aux, vn_next = struct.unpack_from("<HHIII", self.data, p)
                needed = self.string(link, vn_file)
                a = p + vn_aux
                for _ in range(vn_cnt):
                    _, flags, index, vna_name, vna_next = struct.unpack_from("<IHHII", self.data, a)
                    result.append((needed, self.string(link, vna_name), index, a + 4, flags))
                    if vna_next == 0:
                        break
                    a += vna_next
                if vn_next == 0:
                    break
                p += vn_next
        return result

    def dynamic_symbols(self):
        """(name, version index) of each dynamic symbol, by symbol index."""
        dynsym = self.find(SHT_DYNSYM)
        versym = self.find(SHT_GNU_VERSYM)
        if not dynsym:
            return [], None
        _, off, size, link, _, entsize = self.sections[dynsym[0]]
        count = size // entsize
        versions = [0] * count
        if versym:
            vo = self.sections[versym[0]][1]
            versions = [struct.unpack_from("<H", self.data, vo + 2 * i)[0] & ~VERSYM_HIDDEN for i in range(count)]
        names = [self.string(link, struct.unpack_from("<I", self.data, off + i * entsize)[0]) for i in range(count)]
        return list(zip(names, versions)), dynsym[0]

    def relocated_symbols(self, symtab):
        """Indices of the symbols of section symtab that some relocation refers to."""
        used = set()
        for kind in (SHT_RELA, SHT_REL):
            for sec in self.find(kind):
                _, off, size, link, _, entsize = self.sections[sec]
                if link != symtab or entsize == 0:
                    continue
                for i in range(size // entsize):
                    r_info, = struct.unpack_from("<Q", self.data, off + i * entsize + 8)
                    used.add(r_info >> 32)
        return used


def host_libstdcxx():
    """The path of the libstdc++ the loader picks on this machine, or None."""
    try:
        ctypes.CDLL("libstdc++.so.6")
    except OSError:
        return None
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libstdc++.so"):
                return path
    return None


def main(argv):
    if len(argv) not in (2, 3) or argv[1] in ("-h", "--help"):
        print("usage: weaken_missing_glibcxx.py LIBRARY [HOST_LIBSTDCXX]", file=sys.stderr)
        return 2
    library = argv[1]
    host = argv[2] if len(argv) == 3 else host_libstdcxx()
    tag = f"weaken_missing_glibcxx: {library}"
    if host is None:
        print(f"{tag}: no libstdc++ found on this machine; left as is")
        return 0
    try:
        provided = Elf(host).version_definitions()
        lib = Elf(library)
    except (OSError, ValueError, struct.error) as e:
        print(f"{tag}: cannot read it: {e}", file=sys.stderr)
        return 1

    missing = [r for r in lib.version_requirements()
               if r[0].startswith("libstdc++.so") and r[1] not in provided and not r[4] & VER_FLG_WEAK]
    if not missing:
        print(f"{tag}: {host} provides every libstdc++ version it requires (or they are already weak); nothing to do")
        return 0

    symbols, dynsym = lib.dynamic_symbols()
    relocated = lib.relocated_symbols(dynsym) if dynsym is not None else set()
    for _, version, index, _, _ in missing:
        named = [i for i, (_, v) in enumerate(symbols) if v == index]
        used = [symbols[i][0] for i in named if i in relocated]
        if used:
            print(f"{tag}: refusing to patch: it really uses {', '.join(used)} of {version}, which {host} does not define; "
                  f"the library needs a newer libstdc++ (GCC with {version}).", file=sys.stderr)
            return 1
        listed = ", ".join(symbols[i][0] for i in named) or "no symbol"
        print(f"{tag}: {version} is missing from {host}; it names {listed}, which no relocation uses: marking it weak")

    for _, _, _, flags_offset, flags in missing:
        struct.pack_into("<H", lib.data, flags_offset, flags | VER_FLG_WEAK)
    folder = os.path.dirname(os.path.abspath(library))
    fd, temp = tempfile.mkstemp(prefix=".weaken-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(lib.data)
        os.chmod(temp, os.stat(library).st_mode & 0o7777)
        os.replace(temp, library)
    except BaseException:
        os.unlink(temp)
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
