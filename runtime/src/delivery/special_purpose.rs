//! Which IP addresses are globally reachable: the IANA special-purpose address
//! registries as data, for the SSRF guard ([`super::guard`]).
//!
//! Sources, one table row per registry row (transcribed by hand; snapshot of the
//! registries as published in 2025 — re-check both pages when updating):
//!
//! * **IANA IPv4 Special-Purpose Address Registry**
//!   (`iana-ipv4-special-registry`): 24 rows, [`IPV4`] holds 25 entries because the
//!   registry's one row "192.0.0.170/32, 192.0.0.171/32" is two prefixes.
//! * **IANA IPv6 Special-Purpose Address Registry**
//!   (`iana-ipv6-special-registry`, including RFC 9665's `2001:1::3/128` (2024) and
//!   RFC 9780's `100:0:0:1::/64` (2025)): 25 rows, 25 entries in [`IPV6`].
//! * Two rows from other registries, marked [`Registry::Multicast`]: `224.0.0.0/4`
//!   (IANA IPv4 Multicast Address Space) and `ff00::/8` (IANA IPv6 Multicast Address
//!   Space). A callback is a unicast TCP peer, so multicast is never one.
//! * The IANA IPv6 Address Space registry, as a rule rather than rows: only
//!   `2000::/3` is allocated as Global Unicast; everything else is reserved by the
//!   IETF or is one of the special uses above.
//!
//! How an address is judged ([`why_not_global`]):
//!
//! 1. The **most specific** row containing it decides (rows nest: `192.0.0.9/32` is
//!    globally reachable inside `192.0.0.0/24`, which is not).
//! 2. Its "Globally Reachable" column: `True` is public, `False` is not, and **`N/A`
//!    is not** — the registry makes no promise, and each `N/A` row is a deprecated or
//!    tunnelling block where no legitimate callback lives (`192.88.99.0/24`,
//!    `2001::/32` Teredo, `2001:10::/28` old ORCHID, `2002::/16` 6to4).
//! 3. Two IPv6 rows embed an IPv4 address in their last 32 bits and are judged by it
//!    (through the IPv4 table), whatever their own column says:
//!    `::ffff:0:0/96` (IPv4-mapped: a dual-stack socket sends to the IPv4 address
//!    itself) and `64:ff9b::/96` (NAT64 well-known prefix: the translator forwards to
//!    the embedded address, so `64:ff9b::10.0.0.1` reaches `10.0.0.1`).
//! 4. No row: IPv4 is public (all of it outside the rows is allocated unicast); IPv6
//!    is public only inside `2000::/3`. This refuses the deprecated IPv4-compatible
//!    `::a.b.c.d`, SIIT's `::ffff:0:a.b.c.d`, site-local `fec0::/10` and every
//!    unassigned block, none of which has a row of its own.
//!
//! Teredo and 6to4 also embed IPv4 addresses (the server's and the obfuscated
//! client's; the 6to4 router's). They are refused outright rather than judged by
//! them: their column is `N/A`, both are deprecated transition mechanisms, and where
//! their packets go depends on relays and local tunnel configuration that this guard
//! cannot see (a host with a 6to4 interface sends `2002:0a00:0001::` to `10.0.0.1`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The registry a row comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Registry {
    /// The IANA IPv4 or IPv6 Special-Purpose Address Registry.
    SpecialPurpose,
    /// The IANA IPv4 or IPv6 Multicast Address Space registry (refused: not unicast).
    Multicast,
}

/// The registry's "Globally Reachable" column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reachable {
    /// `True`.
    Yes,
    /// `False`.
    No,
    /// `N/A` (deprecated or transitional blocks): treated as not reachable.
    NotApplicable,
}

/// One registry row: a prefix and what the registry says about it.
#[derive(Clone, Copy, Debug)]
pub struct Row<A> {
    /// The first address of the block.
    pub prefix: A,
    /// The prefix length.
    pub len: u8,
    /// The registry's name for the block.
    pub name: &'static str,
    /// The RFC(s) the registry cites.
    pub rfc: &'static str,
    /// The "Globally Reachable" column.
    pub reachable: Reachable,
    /// Judged by the IPv4 address in the last 32 bits instead of [`Row::reachable`].
    pub embeds_ipv4: bool,
    /// Where the row comes from.
    pub registry: Registry,
}

impl<A> Row<A> {
    fn why(&self) -> Why {
        Why {
            name: self.name,
            rfc: self.rfc,
        }
    }
}

/// Why an address is not globally reachable: the block that says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Why {
    /// The block's name.
    pub name: &'static str,
    /// Its RFC(s).
    pub rfc: &'static str,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.name, self.rfc)
    }
}

const fn v4(o: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::new(o[0], o[1], o[2], o[3])
}

const fn v6(s: [u16; 8]) -> Ipv6Addr {
    Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
}

const fn row<A>(
    prefix: A,
    len: u8,
    name: &'static str,
    rfc: &'static str,
    reachable: Reachable,
) -> Row<A> {
    Row {
        prefix,
        len,
        name,
        rfc,
        reachable,
        embeds_ipv4: false,
        registry: Registry::SpecialPurpose,
    }
}

const fn embedding(row: Row<Ipv6Addr>) -> Row<Ipv6Addr> {
    Row {
        embeds_ipv4: true,
        ..row
    }
}

const fn multicast<A: Copy>(row: Row<A>) -> Row<A> {
    Row {
        registry: Registry::Multicast,
        ..row
    }
}

use Reachable::{No, NotApplicable, Yes};

/// The IPv4 rows, in registry order (plus multicast at the end).
#[rustfmt::skip]
pub static IPV4: &[Row<Ipv4Addr>] = &[
    row(v4([0, 0, 0, 0]),         8,  "\"This network\"",                          "RFC 791 §3.2",            No),
    row(v4([0, 0, 0, 0]),         32, "\"This host on this network\"",             "RFC 1122 §3.2.1.3",       No),
    row(v4([10, 0, 0, 0]),        8,  "Private-Use",                               "RFC 1918",                No),
    row(v4([100, 64, 0, 0]),      10, "Shared Address Space",                      "RFC 6598",                No),
    row(v4([127, 0, 0, 0]),       8,  "Loopback",                                  "RFC 1122 §3.2.1.3",       No),
    row(v4([169, 254, 0, 0]),     16, "Link Local",                                "RFC 3927",                No),
    row(v4([172, 16, 0, 0]),      12, "Private-Use",                               "RFC 1918",                No),
    row(v4([192, 0, 0, 0]),       24, "IETF Protocol Assignments",                 "RFC 6890 §2.1",           No),
    row(v4([192, 0, 0, 0]),       29, "IPv4 Service Continuity Prefix",            "RFC 7335",                No),
    row(v4([192, 0, 0, 8]),       32, "IPv4 dummy address",                        "RFC 7600",                No),
    row(v4([192, 0, 0, 9]),       32, "Port Control Protocol Anycast",             "RFC 7723",                Yes),
    row(v4([192, 0, 0, 10]),      32, "Traversal Using Relays around NAT Anycast", "RFC 8155",                Yes),
    row(v4([192, 0, 0, 170]),     32, "NAT64/DNS64 Discovery",                     "RFC 8880, RFC 7050 §2.2", No),
    row(v4([192, 0, 0, 171]),     32, "NAT64/DNS64 Discovery",                     "RFC 8880, RFC 7050 §2.2", No),
    row(v4([192, 0, 2, 0]),       24, "Documentation (TEST-NET-1)",                "RFC 5737",                No),
    row(v4([192, 31, 196, 0]),    24, "AS112-v4",                                  "RFC 7535",                Yes),
    row(v4([192, 52, 193, 0]),    24, "AMT",                                       "RFC 7450",                Yes),
    row(v4([192, 88, 99, 0]),     24, "Deprecated (6to4 Relay Anycast)",           "RFC 7526",                NotApplicable),
    row(v4([192, 168, 0, 0]),     16, "Private-Use",                               "RFC 1918",                No),
    row(v4([192, 175, 48, 0]),    24, "Direct Delegation AS112 Service",           "RFC 7534",                Yes),
    row(v4([198, 18, 0, 0]),      15, "Benchmarking",                              "RFC 2544",                No),
    row(v4([198, 51, 100, 0]),    24, "Documentation (TEST-NET-2)",                "RFC 5737",                No),
    row(v4([203, 0, 113, 0]),     24, "Documentation (TEST-NET-3)",                "RFC 5737",                No),
    row(v4([240, 0, 0, 0]),       4,  "Reserved",                                  "RFC 1112 §4",             No),
    row(v4([255, 255, 255, 255]), 32, "Limited Broadcast",                         "RFC 8190, RFC 919 §7",    No),
    multicast(row(v4([224, 0, 0, 0]), 4, "Multicast", "RFC 5771", No)),
];

/// The IPv6 rows, in registry order (plus multicast at the end).
#[rustfmt::skip]
pub static IPV6: &[Row<Ipv6Addr>] = &[
    row(v6([0, 0, 0, 0, 0, 0, 0, 1]),            128, "Loopback Address",                      "RFC 4291",                  No),
    row(v6([0, 0, 0, 0, 0, 0, 0, 0]),            128, "Unspecified Address",                   "RFC 4291",                  No),
    embedding(row(v6([0, 0, 0, 0, 0, 0xffff, 0, 0]), 96, "IPv4-mapped Address",                "RFC 4291",                  No)),
    embedding(row(v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]), 96, "IPv4-IPv6 Translat.",             "RFC 6052",                  Yes)),
    row(v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]),    48,  "IPv4-IPv6 Translat.",                   "RFC 8215",                  No),
    row(v6([0x100, 0, 0, 0, 0, 0, 0, 0]),        64,  "Discard-Only Address Block",            "RFC 6666",                  No),
    row(v6([0x100, 0, 0, 1, 0, 0, 0, 0]),        64,  "Dummy IPv6 Prefix",                     "RFC 9780",                  No),
    row(v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),       23,  "IETF Protocol Assignments",             "RFC 2928",                  No),
    row(v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),       32,  "TEREDO",                                "RFC 4380, RFC 8190",        NotApplicable),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 1]),       128, "Port Control Protocol Anycast",         "RFC 7723",                  Yes),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 2]),       128, "Traversal Using Relays around NAT Anycast", "RFC 8155",              Yes),
    row(v6([0x2001, 1, 0, 0, 0, 0, 0, 3]),       128, "DNS-SD Service Registration Protocol Anycast Address", "RFC 9665",   Yes),
    row(v6([0x2001, 2, 0, 0, 0, 0, 0, 0]),       48,  "Benchmarking",                          "RFC 5180, RFC Errata 1752", No),
    row(v6([0x2001, 3, 0, 0, 0, 0, 0, 0]),       32,  "AMT",                                   "RFC 7450",                  Yes),
    row(v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0]),   48,  "AS112-v6",                              "RFC 7535",                  Yes),
    row(v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0]),    28,  "Deprecated (previously ORCHID)",        "RFC 4843",                  NotApplicable),
    row(v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0]),    28,  "ORCHIDv2",                              "RFC 7343",                  Yes),
    row(v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0]),    28,  "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374",     Yes),
    row(v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]),   32,  "Documentation",                         "RFC 3849",                  No),
    row(v6([0x2002, 0, 0, 0, 0, 0, 0, 0]),       16,  "6to4",                                  "RFC 3056",                  NotApplicable),
    row(v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0]), 48, "Direct Delegation AS112 Service",      "RFC 7534",                  Yes),
    row(v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]),       20,  "Documentation",                         "RFC 9637",                  No),
    row(v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]),       16,  "Segment Routing (SRv6) SIDs",           "RFC 9602",                  No),
    row(v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]),       7,   "Unique-Local",                          "RFC 4193, RFC 8190",        No),
    row(v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]),       10,  "Link-Local Unicast",                    "RFC 4291",                  No),
    multicast(row(v6([0xff00, 0, 0, 0, 0, 0, 0, 0]), 8, "Multicast", "RFC 4291", No)),
];

/// Why an IPv6 address without a row is refused (IANA IPv6 Address Space registry).
const OUTSIDE_GLOBAL_UNICAST: Why = Why {
    name: "outside Global Unicast 2000::/3 (IANA IPv6 Address Space)",
    rfc: "RFC 4291",
};

/// Whether `ip` is in the `len`-bit prefix starting at `prefix` (as integers).
fn within(ip: u128, prefix: u128, len: u8, bits: u8) -> bool {
    let shift = u32::from(bits - len);
    len == 0 || (ip ^ prefix) >> shift == 0
}

/// The most specific IPv4 row containing `ip`.
pub fn lookup_v4(ip: Ipv4Addr) -> Option<&'static Row<Ipv4Addr>> {
    let ip = u128::from(u32::from(ip));
    IPV4.iter()
        .filter(|row| within(ip, u128::from(u32::from(row.prefix)), row.len, 32))
        .max_by_key(|row| row.len)
}

/// The most specific IPv6 row containing `ip`.
pub fn lookup_v6(ip: Ipv6Addr) -> Option<&'static Row<Ipv6Addr>> {
    let ip = u128::from(ip);
    IPV6.iter()
        .filter(|row| within(ip, u128::from(row.prefix), row.len, 128))
        .max_by_key(|row| row.len)
}

fn v4_verdict(ip: Ipv4Addr) -> Option<Why> {
    match lookup_v4(ip) {
        Some(row) if row.reachable != Yes => Some(row.why()),
        _ => None,
    }
}

/// Why `ip` is not globally reachable (see the module documentation for the rules),
/// or `None` when it is.
pub fn why_not_global(ip: IpAddr) -> Option<Why> {
    match ip {
        IpAddr::V4(ip) => v4_verdict(ip),
        IpAddr::V6(ip) => match lookup_v6(ip) {
            Some(row) if row.embeds_ipv4 => {
                let [.., a, b, c, d] = ip.octets();
                v4_verdict(Ipv4Addr::new(a, b, c, d))
            }
            Some(row) if row.reachable == Yes => None,
            Some(row) => Some(row.why()),
            None if ip.segments()[0] & 0xe000 == 0x2000 => None,
            None => Some(OUTSIDE_GLOBAL_UNICAST),
        },
    }
}

/// Whether `ip` is globally reachable: no registry row (nor rule) says otherwise.
pub fn is_globally_reachable(ip: IpAddr) -> bool {
    why_not_global(ip).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(ip: &str) -> bool {
        is_globally_reachable(ip.parse().unwrap())
    }

    /// Checks a table against one case per row, in table order: the row's block as
    /// text, an address inside it that this row (and no more specific one) decides,
    /// and whether that address is public. Also that no row has host bits set and
    /// that no block is listed twice.
    fn check_table<A>(
        rows: &'static [Row<A>],
        cases: &[(&str, &str, bool)],
        lookup: fn(A) -> Option<&'static Row<A>>,
        (bits, width): (fn(A) -> u128, u8),
    ) where
        A: Copy + std::str::FromStr<Err: fmt::Debug> + PartialEq + fmt::Debug,
    {
        assert_eq!(cases.len(), rows.len(), "one case per row");
        for (row, (block, inside, expected)) in rows.iter().zip(cases) {
            let (prefix, len) = block.split_once('/').unwrap();
            assert_eq!(row.prefix, prefix.parse::<A>().unwrap(), "{block}");
            assert_eq!(row.len.to_string(), len, "{block}");
            let host_bits = u128::MAX.checked_shr(u32::from(128 - width + row.len));
            assert_eq!(bits(row.prefix) & host_bits.unwrap_or(0), 0, "{block}");
            let same = rows
                .iter()
                .filter(|other| bits(other.prefix) == bits(row.prefix) && other.len == row.len);
            assert_eq!(same.count(), 1, "{block} is listed once");
            let ip: A = inside.parse().unwrap();
            assert!(
                std::ptr::eq(lookup(ip).unwrap(), row),
                "{inside} is decided by {block}"
            );
            assert_eq!(public(inside), *expected, "{inside} in {block}");
        }
    }

    #[test]
    fn every_ipv4_row() {
        let cases: &[(&str, &str, bool)] = &[
            ("0.0.0.0/8", "0.1.2.3", false),
            ("0.0.0.0/32", "0.0.0.0", false),
            ("10.0.0.0/8", "10.20.30.40", false),
            ("100.64.0.0/10", "100.100.100.100", false),
            ("127.0.0.0/8", "127.1.2.3", false),
            ("169.254.0.0/16", "169.254.169.254", false),
            ("172.16.0.0/12", "172.20.0.1", false),
            ("192.0.0.0/24", "192.0.0.100", false),
            ("192.0.0.0/29", "192.0.0.5", false),
            ("192.0.0.8/32", "192.0.0.8", false),
            ("192.0.0.9/32", "192.0.0.9", true),
            ("192.0.0.10/32", "192.0.0.10", true),
            ("192.0.0.170/32", "192.0.0.170", false),
            ("192.0.0.171/32", "192.0.0.171", false),
            ("192.0.2.0/24", "192.0.2.1", false),
            ("192.31.196.0/24", "192.31.196.1", true),
            ("192.52.193.0/24", "192.52.193.1", true),
            ("192.88.99.0/24", "192.88.99.1", false),
            ("192.168.0.0/16", "192.168.1.1", false),
            ("192.175.48.0/24", "192.175.48.6", true),
            ("198.18.0.0/15", "198.18.0.1", false),
            ("198.51.100.0/24", "198.51.100.7", false),
            ("203.0.113.0/24", "203.0.113.9", false),
            ("240.0.0.0/4", "250.1.2.3", false),
            ("255.255.255.255/32", "255.255.255.255", false),
            ("224.0.0.0/4", "239.255.255.250", false),
        ];
        check_table(IPV4, cases, lookup_v4, (|ip| u128::from(u32::from(ip)), 32));
        for row in IPV4 {
            assert!(!row.embeds_ipv4, "{}", row.name);
        }
    }

    #[test]
    fn every_ipv6_row() {
        let cases: &[(&str, &str, bool)] = &[
            ("::1/128", "::1", false),
            ("::/128", "::", false),
            ("::ffff:0:0/96", "::ffff:8.8.8.8", true), // embedded IPv4 judged
            ("64:ff9b::/96", "64:ff9b::8.8.8.8", true), // embedded IPv4 judged
            ("64:ff9b:1::/48", "64:ff9b:1::8.8.8.8", false),
            ("100::/64", "100::1", false),
            ("100:0:0:1::/64", "100:0:0:1::1", false),
            ("2001::/23", "2001:100::1", false),
            ("2001::/32", "2001::1", false),
            ("2001:1::1/128", "2001:1::1", true),
            ("2001:1::2/128", "2001:1::2", true),
            ("2001:1::3/128", "2001:1::3", true),
            ("2001:2::/48", "2001:2::1", false),
            ("2001:3::/32", "2001:3::1", true),
            ("2001:4:112::/48", "2001:4:112::1", true),
            ("2001:10::/28", "2001:10::1", false),
            ("2001:20::/28", "2001:2f::1", true),
            ("2001:30::/28", "2001:3f:ffff::1", true),
            ("2001:db8::/32", "2001:db8::1", false),
            ("2002::/16", "2002:808:808::1", false),
            ("2620:4f:8000::/48", "2620:4f:8000::53", true),
            ("3fff::/20", "3fff:fff::1", false),
            ("5f00::/16", "5f00::1", false),
            ("fc00::/7", "fd12:3456::1", false),
            ("fe80::/10", "fe80::1", false),
            ("ff00::/8", "ff02::1", false),
        ];
        check_table(IPV6, cases, lookup_v6, (u128::from, 128));
    }

    /// The first and last address of each block, and the neighbours just outside.
    #[test]
    fn boundaries() {
        for (ip, expected) in [
            // 0.0.0.0/8 | 1.0.0.0
            ("0.255.255.255", false),
            ("1.0.0.0", true),
            // 10.0.0.0/8
            ("9.255.255.255", true),
            ("10.0.0.0", false),
            ("10.255.255.255", false),
            ("11.0.0.0", true),
            // 100.64.0.0/10
            ("100.63.255.255", true),
            ("100.64.0.0", false),
            ("100.127.255.255", false),
            ("100.128.0.0", true),
            // 127.0.0.0/8
            ("126.255.255.255", true),
            ("127.0.0.0", false),
            ("127.255.255.255", false),
            ("128.0.0.0", true),
            // 169.254.0.0/16
            ("169.253.255.255", true),
            ("169.254.0.0", false),
            ("169.254.255.255", false),
            ("169.255.0.0", true),
            // 172.16.0.0/12
            ("172.15.255.255", true),
            ("172.16.0.0", false),
            ("172.31.255.255", false),
            ("172.32.0.0", true),
            // 192.0.0.0/24 and its sub-rows
            ("191.255.255.255", true),
            ("192.0.0.0", false),
            ("192.0.0.7", false),
            ("192.0.0.8", false),
            ("192.0.0.9", true),
            ("192.0.0.10", true),
            ("192.0.0.11", false),
            ("192.0.0.169", false),
            ("192.0.0.172", false),
            ("192.0.0.255", false),
            ("192.0.1.0", true),
            // 192.0.2.0/24
            ("192.0.2.0", false),
            ("192.0.2.255", false),
            ("192.0.3.0", true),
            // 192.88.99.0/24
            ("192.88.98.255", true),
            ("192.88.99.0", false),
            ("192.88.99.255", false),
            ("192.88.100.0", true),
            // 192.168.0.0/16
            ("192.167.255.255", true),
            ("192.168.0.0", false),
            ("192.168.255.255", false),
            ("192.169.0.0", true),
            // 198.18.0.0/15
            ("198.17.255.255", true),
            ("198.18.0.0", false),
            ("198.19.255.255", false),
            ("198.20.0.0", true),
            // 198.51.100.0/24, 203.0.113.0/24
            ("198.51.99.255", true),
            ("198.51.100.0", false),
            ("198.51.100.255", false),
            ("198.51.101.0", true),
            ("203.0.112.255", true),
            ("203.0.113.0", false),
            ("203.0.113.255", false),
            ("203.0.114.0", true),
            // 224.0.0.0/4, 240.0.0.0/4, broadcast
            ("223.255.255.255", true),
            ("224.0.0.0", false),
            ("239.255.255.255", false),
            ("240.0.0.0", false),
            ("255.255.255.254", false),
            ("255.255.255.255", false),
            // IPv6: 2001::/23 and its globally reachable sub-rows
            ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001::", false),
            ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("2001:1::", false),
            ("2001:1::4", false),
            ("2001:2:0:ffff::", false),
            ("2001:2:1::", false),
            ("2001:3::", true),
            ("2001:3:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001:4:111:ffff::", false),
            ("2001:4:112::", true),
            ("2001:4:113::", false),
            ("2001:f:ffff::", false),
            ("2001:10::", false),
            ("2001:1f:ffff::", false),
            ("2001:20::", true),
            ("2001:3f:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001:40::", false),
            ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("2001:200::", true),
            // 2001:db8::/32, 2002::/16
            ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001:db8::", false),
            ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("2001:db9::", true),
            ("2002::", false),
            ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("2003::", true),
            // 2620:4f:8000::/48
            ("2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", true),
            ("2620:4f:8000:ffff:ffff:ffff:ffff:ffff", true),
            // 3fff::/20 and the end of 2000::/3
            ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("3fff::", false),
            ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("3fff:1000::", true),
            ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("4000::", false),
            ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            // 100::/64 and 100:0:0:1::/64
            ("100::ffff:ffff:ffff:ffff", false),
            ("100:0:0:1:ffff:ffff:ffff:ffff", false),
            ("100:0:0:2::", false), // no row, but outside 2000::/3
            // fc00::/7, fe80::/10, ff00::/8
            ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("fc00::", false),
            ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("fe80::", false),
            ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
            ("fec0::1", false), // deprecated site-local: no row, outside 2000::/3
            ("ff00::", false),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
        ] {
            assert_eq!(public(ip), expected, "{ip}");
        }
    }

    /// IPv4 inside IPv6: the mapped and NAT64 forms are judged by the IPv4 address;
    /// 6to4, Teredo, the deprecated compatible form and SIIT are refused whatever
    /// they carry.
    #[test]
    fn embedded_ipv4() {
        for (ip, expected) in [
            ("::ffff:8.8.8.8", true),
            ("::ffff:127.0.0.1", false),
            ("::ffff:169.254.169.254", false),
            ("::ffff:10.0.0.1", false),
            ("::ffff:198.18.0.1", false),
            ("::ffff:192.0.0.9", true),
            ("::ffff:192.0.0.8", false),
            ("::ffff:0.0.0.0", false),
            ("::ffff:255.255.255.255", false),
            ("64:ff9b::8.8.8.8", true),
            ("64:ff9b::127.0.0.1", false),
            ("64:ff9b::10.0.0.1", false),
            ("64:ff9b::192.168.0.1", false),
            ("64:ff9b::100.64.0.1", false),
            ("64:ff9b::1:8.8.8.8", false), // outside the /96: no row, outside 2000::/3
            ("64:ff9b:1::127.0.0.1", false),
            ("2002:808:808::1", false), // 6to4 of 8.8.8.8: refused too
            ("2002:7f00:1::1", false),  // 6to4 of 127.0.0.1
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", false), // Teredo
            ("::8.8.8.8", false),       // IPv4-compatible (deprecated)
            ("::127.0.0.1", false),
            ("::ffff:0:8.8.8.8", false), // SIIT IPv4-translated
        ] {
            assert_eq!(public(ip), expected, "{ip}");
        }
    }

    #[test]
    fn reasons() {
        let why = |ip: &str| why_not_global(ip.parse().unwrap()).map(|w| w.to_string());
        assert_eq!(why("198.18.0.1").unwrap(), "Benchmarking, RFC 2544");
        assert_eq!(why("2001::1").unwrap(), "TEREDO, RFC 4380, RFC 8190");
        assert_eq!(
            why("::ffff:127.0.0.1").unwrap(),
            "Loopback, RFC 1122 §3.2.1.3"
        );
        assert!(why("fec0::1").unwrap().contains("2000::/3"));
        assert_eq!(why("8.8.8.8"), None);
        assert_eq!(why("2606:4700::1111"), None);
    }
}
