//! 納付書 (payment slips): a municipality's slip settings and the staff
//! pages that set them and print a charge's slip.

pub mod settings;
