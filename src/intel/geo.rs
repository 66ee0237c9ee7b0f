//! `SQREEN_GEOIP_DB`: a MaxMind DB file (GeoLite2/GeoIP2 City or Country, DB-IP Lite, IPinfo:
//! anything in that format) read into memory with the `maxminddb` crate and verified whole
//! before it is used, so a corrupt file is refused at load rather than failing lookups.
//!
//! A lookup reads only what `ip_meta` shows: the country code as the database writes it
//! (`country.iso_code`, or IPinfo's `country_code` / `country`), the English city name, the
//! location as `[longitude, latitude]`, and the AS number (`autonomous_system_number`, or
//! IPinfo's `asn` as `AS15169`). A field the database lacks is absent; a record that does not
//! decode is treated as no record. Lookups never panic and do no I/O.

use std::net::IpAddr;

use maxminddb::{path, PathElement, Reader};
use serde::{Deserialize, Serialize};

/// Where a client address is, as far as the database says.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct Geo {
    /// The country code as the database writes it (ISO 3166-1 alpha-2 in GeoIP2), e.g. `"RU"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The city's English name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// `[longitude, latitude]`, as GeoJSON orders them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<[f64; 2]>,
}

/// The part of a GeoIP2-shaped record that `ip_meta` shows; every other field is skipped. A
/// record of another shape (a string where a map is expected) does not decode, and the lookup
/// falls back to reading paths.
#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow, default)]
    country: Option<CountryRecord<'a>>,
    #[serde(borrow, default)]
    city: Option<CityRecord<'a>>,
    #[serde(default)]
    location: Option<LocationRecord>,
    #[serde(default)]
    autonomous_system_number: Option<u32>,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct CityRecord<'a> {
    #[serde(borrow, default)]
    names: Option<NamesRecord<'a>>,
}

#[derive(Deserialize)]
struct NamesRecord<'a> {
    #[serde(borrow, default)]
    en: Option<&'a str>,
}

#[derive(Deserialize)]
struct LocationRecord {
    #[serde(default)]
    latitude: Option<f64>,
    #[serde(default)]
    longitude: Option<f64>,
}

fn point(lon: Option<f64>, lat: Option<f64>) -> Option<[f64; 2]> {
    match (lon, lat) {
        (Some(lon), Some(lat)) if lon.is_finite() && lat.is_finite() => Some([lon, lat]),
        _ => None,
    }
}

/// What the database says of one address.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct GeoFacts {
    /// Where it is, if the database says anything of that.
    pub geo: Option<Geo>,
    /// Its autonomous system number, if the database has it.
    pub asn: Option<u32>,
}

/// A verified MaxMind DB in memory.
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
}

impl std::fmt::Debug for GeoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeoDb")
            .field("database_type", &self.reader.metadata().database_type)
            .field("node_count", &self.reader.metadata().node_count)
            .finish()
    }
}

impl GeoDb {
    /// Checks the database's metadata, search tree and data section; the error says what is
    /// wrong.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<GeoDb, String> {
        let reader =
            Reader::from_source(bytes).map_err(|e| format!("not a MaxMind DB file: {e}"))?;
        reader
            .verify()
            .map_err(|e| format!("corrupt MaxMind DB file: {e}"))?;
        Ok(GeoDb { reader })
    }

    /// The database's type, e.g. `GeoLite2-City`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// The network count is not kept by the format: the search tree's node count stands for
    /// the size.
    pub(crate) fn nodes(&self) -> u64 {
        u64::from(self.reader.metadata().node_count)
    }

    /// What the database says of `ip` (nothing when it has no record for it, or one that does
    /// not decode).
    pub fn lookup(&self, ip: IpAddr) -> GeoFacts {
        let Ok(found) = self.reader.lookup(ip) else {
            return GeoFacts::default();
        };
        if !found.has_data() {
            return GeoFacts::default();
        }
        // one pass for the GeoIP2 shape (GeoLite2, GeoIP2, DB-IP); paths for the others
        let (code, city, point, asn) = match found.decode::<Record<'_>>() {
            Ok(Some(r)) => (
                r.country.and_then(|c| c.iso_code).map(str::to_owned),
                r.city
                    .and_then(|c| c.names)
                    .and_then(|n| n.en)
                    .map(str::to_owned),
                r.location.and_then(|l| point(l.longitude, l.latitude)),
                r.autonomous_system_number,
            ),
            _ => (None, None, None, None),
        };
        let text = |paths: &[&[PathElement<'_>]]| -> Option<String> {
            paths.iter().find_map(|p| {
                found
                    .decode_path::<&str>(p)
                    .ok()
                    .flatten()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
        };
        let code = code.or_else(|| text(&[&path!["country_code"], &path!["country"]]));
        let city = city.or_else(|| text(&[&path!["city"]]));
        let asn = asn.or_else(|| {
            let asn = text(&[&path!["asn"]])?;
            asn.strip_prefix("AS").unwrap_or(&asn).parse().ok()
        });
        let geo = (code.is_some() || city.is_some() || point.is_some()).then_some(Geo {
            code,
            city,
            point,
        });
        GeoFacts { geo, asn }
    }
}
