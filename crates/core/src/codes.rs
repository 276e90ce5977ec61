//! Release identification codes: the ISRC of a recording (ISO 3901) and
//! the UPC-A / EAN-13 catalogue number of a release (GS1), checked the same
//! way by the album file, the tag writers and the CUE sheet.

/// An ISRC without hyphens, upper case: country code (2 letters), registrant
/// (3 letters or digits), year (2 digits), designation (5 digits). ISRC has
/// no check digit, so only the shape can be checked.
pub fn normalize_isrc(raw: &str) -> Result<String, String> {
    let code: String = raw
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let b = code.as_bytes();
    let ok = b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..5].iter().all(u8::is_ascii_alphanumeric)
        && b[5..].iter().all(u8::is_ascii_digit);
    if ok {
        Ok(code)
    } else {
        Err(format!(
            "ISRC '{raw}' is not CC-XXX-YY-NNNNN: 2 letters (country), 3 letters or digits \
             (registrant), 2 digits (year), 5 digits (designation); hyphens are optional"
        ))
    }
}

/// A UPC-A (12 digits) or EAN-13 (13 digits) code as the 13 digits of a CUE
/// sheet's CATALOG (UPC-A gets a leading 0), after checking its check digit
/// (GS1: weights 3 and 1 from the right, excluding the check digit). Spaces
/// and hyphens are ignored.
pub fn catalog_13(raw: &str) -> Result<String, String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !matches!(digits.len(), 12 | 13) {
        return Err(format!(
            "catalog '{raw}': expected a UPC-A (12 digits) or EAN-13 (13 digits) code"
        ));
    }
    let d: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
    let (body, check) = d.split_at(d.len() - 1);
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { 3 * x } else { x })
        .sum();
    let expected = (10 - sum % 10) % 10;
    if check[0] != expected {
        return Err(format!(
            "catalog '{raw}': the check digit is {}, but the other digits give {expected} \
             (a typo?)",
            check[0]
        ));
    }
    Ok(if digits.len() == 12 {
        format!("0{digits}")
    } else {
        digits
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isrc_formats() {
        assert_eq!(normalize_isrc("GB-XYZ-26-00001").unwrap(), "GBXYZ2600001");
        assert_eq!(normalize_isrc("usrc17607839").unwrap(), "USRC17607839");
        for bad in [
            "GBXYZ260001",   // 11 characters
            "G1XYZ2600001",  // digit in the country code
            "GBXYZ2A00001",  // letter in the year
            "GBX-Z2600001",  // hyphen inside the registrant leaves 11
            "GBXYZ26000012", // 13 characters
        ] {
            assert!(normalize_isrc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn catalog_check_digits() {
        // UPC-A 036000291452 (GS1's example), EAN-13 4006381333931.
        assert_eq!(catalog_13("036000291452").unwrap(), "0036000291452");
        assert_eq!(catalog_13("4006381333931").unwrap(), "4006381333931");
        assert_eq!(catalog_13("400-6381-33393-1").unwrap(), "4006381333931");
        let e = catalog_13("036000291453").unwrap_err();
        assert!(
            e.contains("check digit is 3") && e.contains("give 2"),
            "{e}"
        );
        assert!(catalog_13("4006381333932").is_err());
        assert!(catalog_13("12345").is_err());
        assert!(catalog_13("03600029145A").is_err());
    }
}
