/**
 * The geo step of a customer's time zone (`resolveTimezone`): a country's zone when it has one
 * (or nearly all its people live in one), and for the countries spread over several, the zone of
 * a state or province. A state split between zones takes the zone most of its people live in.
 */
import { zonesOf } from './country.js';

// Countries with a single IANA zone, or whose population lives almost all in one (Spain but the
// Canaries, Portugal but the Azores, Chile but Easter Island, Ecuador but Galápagos).
const COUNTRY_ZONES: Readonly<Record<string, string>> = {
  AE: 'Asia/Dubai',
  AR: 'America/Argentina/Buenos_Aires',
  AT: 'Europe/Vienna',
  BE: 'Europe/Brussels',
  BG: 'Europe/Sofia',
  CH: 'Europe/Zurich',
  CL: 'America/Santiago',
  CN: 'Asia/Shanghai',
  CO: 'America/Bogota',
  CY: 'Asia/Nicosia',
  CZ: 'Europe/Prague',
  DE: 'Europe/Berlin',
  DK: 'Europe/Copenhagen',
  EC: 'America/Guayaquil',
  EE: 'Europe/Tallinn',
  EG: 'Africa/Cairo',
  ES: 'Europe/Madrid',
  FI: 'Europe/Helsinki',
  FR: 'Europe/Paris',
  GB: 'Europe/London',
  GR: 'Europe/Athens',
  HK: 'Asia/Hong_Kong',
  HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IL: 'Asia/Jerusalem',
  IN: 'Asia/Kolkata',
  IS: 'Atlantic/Reykjavik',
  IT: 'Europe/Rome',
  JP: 'Asia/Tokyo',
  KE: 'Africa/Nairobi',
  KR: 'Asia/Seoul',
  LI: 'Europe/Vaduz',
  LT: 'Europe/Vilnius',
  LU: 'Europe/Luxembourg',
  LV: 'Europe/Riga',
  MT: 'Europe/Malta',
  MY: 'Asia/Kuala_Lumpur',
  NG: 'Africa/Lagos',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  NZ: 'Pacific/Auckland',
  PE: 'America/Lima',
  PH: 'Asia/Manila',
  PK: 'Asia/Karachi',
  PL: 'Europe/Warsaw',
  PT: 'Europe/Lisbon',
  RO: 'Europe/Bucharest',
  SA: 'Asia/Riyadh',
  SE: 'Europe/Stockholm',
  SG: 'Asia/Singapore',
  SI: 'Europe/Ljubljana',
  SK: 'Europe/Bratislava',
  TH: 'Asia/Bangkok',
  TR: 'Europe/Istanbul',
  TW: 'Asia/Taipei',
  UA: 'Europe/Kyiv',
  VN: 'Asia/Ho_Chi_Minh',
  ZA: 'Africa/Johannesburg',
  // Territories and small states with codes of their own, which a phone number's country may be
  // (`+1 787` is Puerto Rico, `+44 7781` Guernsey).
  PR: 'America/Puerto_Rico',
  VI: 'America/St_Thomas',
  GU: 'Pacific/Guam',
  AS: 'Pacific/Pago_Pago',
  MP: 'Pacific/Saipan',
  GG: 'Europe/Guernsey',
  JE: 'Europe/Jersey',
  IM: 'Europe/Isle_of_Man',
  GI: 'Europe/Gibraltar',
  RE: 'Indian/Reunion',
  YT: 'Indian/Mayotte',
  GP: 'America/Guadeloupe',
  MQ: 'America/Martinique',
  GF: 'America/Cayenne',
  MF: 'America/Marigot',
  BL: 'America/St_Barthelemy',
  AX: 'Europe/Mariehamn',
  FO: 'Atlantic/Faroe',
  MC: 'Europe/Monaco',
  SM: 'Europe/San_Marino',
  AD: 'Europe/Andorra',
  VA: 'Europe/Vatican',
};

const EASTERN = 'America/New_York';
const CENTRAL = 'America/Chicago';
const MOUNTAIN = 'America/Denver';
const PACIFIC = 'America/Los_Angeles';

// US states and territories by USPS code and name.
// prettier-ignore
const US: Readonly<Record<string, string>> = {
  AL: CENTRAL, ALABAMA: CENTRAL,
  AK: 'America/Anchorage', ALASKA: 'America/Anchorage',
  AZ: 'America/Phoenix', ARIZONA: 'America/Phoenix',
  AR: CENTRAL, ARKANSAS: CENTRAL,
  CA: PACIFIC, CALIFORNIA: PACIFIC,
  CO: MOUNTAIN, COLORADO: MOUNTAIN,
  CT: EASTERN, CONNECTICUT: EASTERN,
  DE: EASTERN, DELAWARE: EASTERN,
  DC: EASTERN, 'DISTRICT OF COLUMBIA': EASTERN, 'WASHINGTON DC': EASTERN, 'WASHINGTON, DC': EASTERN,
  FL: EASTERN, FLORIDA: EASTERN,
  GA: EASTERN, GEORGIA: EASTERN,
  HI: 'Pacific/Honolulu', HAWAII: 'Pacific/Honolulu',
  ID: 'America/Boise', IDAHO: 'America/Boise',
  IL: CENTRAL, ILLINOIS: CENTRAL,
  IN: 'America/Indiana/Indianapolis', INDIANA: 'America/Indiana/Indianapolis',
  IA: CENTRAL, IOWA: CENTRAL,
  KS: CENTRAL, KANSAS: CENTRAL,
  KY: EASTERN, KENTUCKY: EASTERN,
  LA: CENTRAL, LOUISIANA: CENTRAL,
  ME: EASTERN, MAINE: EASTERN,
  MD: EASTERN, MARYLAND: EASTERN,
  MA: EASTERN, MASSACHUSETTS: EASTERN,
  MI: 'America/Detroit', MICHIGAN: 'America/Detroit',
  MN: CENTRAL, MINNESOTA: CENTRAL,
  MS: CENTRAL, MISSISSIPPI: CENTRAL,
  MO: CENTRAL, MISSOURI: CENTRAL,
  MT: MOUNTAIN, MONTANA: MOUNTAIN,
  NE: CENTRAL, NEBRASKA: CENTRAL,
  NV: PACIFIC, NEVADA: PACIFIC,
  NH: EASTERN, 'NEW HAMPSHIRE': EASTERN,
  NJ: EASTERN, 'NEW JERSEY': EASTERN,
  NM: MOUNTAIN, 'NEW MEXICO': MOUNTAIN,
  NY: EASTERN, 'NEW YORK': EASTERN,
  NC: EASTERN, 'NORTH CAROLINA': EASTERN,
  ND: CENTRAL, 'NORTH DAKOTA': CENTRAL,
  OH: EASTERN, OHIO: EASTERN,
  OK: CENTRAL, OKLAHOMA: CENTRAL,
  OR: PACIFIC, OREGON: PACIFIC,
  PA: EASTERN, PENNSYLVANIA: EASTERN,
  RI: EASTERN, 'RHODE ISLAND': EASTERN,
  SC: EASTERN, 'SOUTH CAROLINA': EASTERN,
  SD: CENTRAL, 'SOUTH DAKOTA': CENTRAL,
  TN: CENTRAL, TENNESSEE: CENTRAL,
  TX: CENTRAL, TEXAS: CENTRAL,
  UT: MOUNTAIN, UTAH: MOUNTAIN,
  VT: EASTERN, VERMONT: EASTERN,
  VA: EASTERN, VIRGINIA: EASTERN,
  WA: PACIFIC, WASHINGTON: PACIFIC,
  WV: EASTERN, 'WEST VIRGINIA': EASTERN,
  WI: CENTRAL, WISCONSIN: CENTRAL,
  WY: MOUNTAIN, WYOMING: MOUNTAIN,
  PR: 'America/Puerto_Rico', 'PUERTO RICO': 'America/Puerto_Rico',
  GU: 'Pacific/Guam', GUAM: 'Pacific/Guam',
  VI: 'America/St_Thomas', 'VIRGIN ISLANDS': 'America/St_Thomas',
};

// Canadian provinces and territories by postal code and name (English and French).
// prettier-ignore
const CA: Readonly<Record<string, string>> = {
  AB: 'America/Edmonton', ALBERTA: 'America/Edmonton',
  BC: 'America/Vancouver', 'BRITISH COLUMBIA': 'America/Vancouver', 'COLOMBIE-BRITANNIQUE': 'America/Vancouver',
  MB: 'America/Winnipeg', MANITOBA: 'America/Winnipeg',
  NB: 'America/Moncton', 'NEW BRUNSWICK': 'America/Moncton', 'NOUVEAU-BRUNSWICK': 'America/Moncton',
  NL: 'America/St_Johns', 'NEWFOUNDLAND AND LABRADOR': 'America/St_Johns', NEWFOUNDLAND: 'America/St_Johns', 'TERRE-NEUVE-ET-LABRADOR': 'America/St_Johns',
  NS: 'America/Halifax', 'NOVA SCOTIA': 'America/Halifax', 'NOUVELLE-ECOSSE': 'America/Halifax',
  NT: 'America/Edmonton', 'NORTHWEST TERRITORIES': 'America/Edmonton', 'TERRITOIRES DU NORD-OUEST': 'America/Edmonton',
  NU: 'America/Iqaluit', NUNAVUT: 'America/Iqaluit',
  ON: 'America/Toronto', ONTARIO: 'America/Toronto',
  PE: 'America/Halifax', 'PRINCE EDWARD ISLAND': 'America/Halifax', 'ILE-DU-PRINCE-EDOUARD': 'America/Halifax',
  QC: 'America/Toronto', QUEBEC: 'America/Toronto',
  SK: 'America/Regina', SASKATCHEWAN: 'America/Regina',
  YT: 'America/Whitehorse', YUKON: 'America/Whitehorse',
};

// Australian states and territories by abbreviation and name.
// prettier-ignore
const AU: Readonly<Record<string, string>> = {
  ACT: 'Australia/Sydney', 'AUSTRALIAN CAPITAL TERRITORY': 'Australia/Sydney',
  NSW: 'Australia/Sydney', 'NEW SOUTH WALES': 'Australia/Sydney',
  NT: 'Australia/Darwin', 'NORTHERN TERRITORY': 'Australia/Darwin',
  QLD: 'Australia/Brisbane', QUEENSLAND: 'Australia/Brisbane',
  SA: 'Australia/Adelaide', 'SOUTH AUSTRALIA': 'Australia/Adelaide',
  TAS: 'Australia/Hobart', TASMANIA: 'Australia/Hobart',
  VIC: 'Australia/Melbourne', VICTORIA: 'Australia/Melbourne',
  WA: 'Australia/Perth', 'WESTERN AUSTRALIA': 'Australia/Perth',
};

// Brazil: the states outside Brasília time by code and name; every other state is in it.
// prettier-ignore
const BR_OUTSIDE: Readonly<Record<string, string>> = {
  AC: 'America/Rio_Branco', ACRE: 'America/Rio_Branco',
  AM: 'America/Manaus', AMAZONAS: 'America/Manaus',
  MS: 'America/Campo_Grande', 'MATO GROSSO DO SUL': 'America/Campo_Grande',
  MT: 'America/Cuiaba', 'MATO GROSSO': 'America/Cuiaba',
  RO: 'America/Porto_Velho', RONDONIA: 'America/Porto_Velho',
  RR: 'America/Boa_Vista', RORAIMA: 'America/Boa_Vista',
};
// prettier-ignore
const BR_STATES = new Set([
  'AL', 'ALAGOAS', 'AP', 'AMAPA', 'BA', 'BAHIA', 'CE', 'CEARA', 'DF', 'DISTRITO FEDERAL',
  'BRASILIA', 'ES', 'ESPIRITO SANTO', 'GO', 'GOIAS', 'MA', 'MARANHAO', 'MG', 'MINAS GERAIS',
  'PA', 'PARA', 'PB', 'PARAIBA', 'PE', 'PERNAMBUCO', 'PI', 'PIAUI', 'PR', 'PARANA', 'RJ',
  'RIO DE JANEIRO', 'RN', 'RIO GRANDE DO NORTE', 'RS', 'RIO GRANDE DO SUL', 'SC',
  'SANTA CATARINA', 'SE', 'SERGIPE', 'SP', 'SAO PAULO', 'TO', 'TOCANTINS',
]);

// Mexico: the states outside central time by code and name; every other state is in it.
// prettier-ignore
const MX_OUTSIDE: Readonly<Record<string, string>> = {
  BC: 'America/Tijuana', BCN: 'America/Tijuana', 'BAJA CALIFORNIA': 'America/Tijuana',
  BCS: 'America/Mazatlan', 'BAJA CALIFORNIA SUR': 'America/Mazatlan',
  CHH: 'America/Chihuahua', CHIH: 'America/Chihuahua', CHIHUAHUA: 'America/Chihuahua',
  NAY: 'America/Mazatlan', NAYARIT: 'America/Mazatlan',
  ROO: 'America/Cancun', QROO: 'America/Cancun', 'QUINTANA ROO': 'America/Cancun',
  SIN: 'America/Mazatlan', SINALOA: 'America/Mazatlan',
  SON: 'America/Hermosillo', SONORA: 'America/Hermosillo',
};
// prettier-ignore
const MX_STATES = new Set([
  'AGU', 'AGS', 'AGUASCALIENTES', 'CAM', 'CAMPECHE', 'CHP', 'CHIS', 'CHIAPAS', 'CMX', 'CDMX',
  'DF', 'CIUDAD DE MEXICO', 'MEXICO CITY', 'DISTRITO FEDERAL', 'COA', 'COAH', 'COAHUILA',
  'COAHUILA DE ZARAGOZA', 'COL', 'COLIMA', 'DUR', 'DGO', 'DURANGO', 'GRO', 'GUERRERO', 'GUA',
  'GTO', 'GUANAJUATO', 'HID', 'HGO', 'HIDALGO', 'JAL', 'JALISCO', 'MEX', 'EDOMEX',
  'ESTADO DE MEXICO', 'STATE OF MEXICO', 'MIC', 'MICH', 'MICHOACAN', 'MICHOACAN DE OCAMPO',
  'MOR', 'MORELOS', 'NLE', 'NL', 'NUEVO LEON', 'OAX', 'OAXACA', 'PUE', 'PUEBLA', 'QUE', 'QRO',
  'QUERETARO', 'SLP', 'SAN LUIS POTOSI', 'TAB', 'TABASCO', 'TAM', 'TAMPS', 'TAMAULIPAS', 'TLA',
  'TLAX', 'TLAXCALA', 'VER', 'VERACRUZ', 'YUC', 'YUCATAN', 'ZAC', 'ZACATECAS',
]);

/** The countries whose zone is read from the state or province. */
const SPLIT_COUNTRIES: ReadonlySet<string> = new Set(['US', 'CA', 'AU', 'BR', 'MX']);

// The zones of a country spread over several, from east to west, in which nearly all its
// people live: a customer whose state or province is not known may be in any of them.
const SPREAD: Readonly<Record<string, readonly string[]>> = {
  US: [
    'America/New_York',
    'America/Chicago',
    'America/Denver',
    'America/Phoenix',
    'America/Los_Angeles',
    'America/Anchorage',
    'Pacific/Honolulu',
  ],
  CA: [
    'America/St_Johns',
    'America/Halifax',
    'America/Toronto',
    'America/Winnipeg',
    'America/Regina',
    'America/Edmonton',
    'America/Vancouver',
  ],
  AU: [
    'Australia/Sydney',
    'Australia/Brisbane',
    'Australia/Adelaide',
    'Australia/Darwin',
    'Australia/Perth',
  ],
  BR: ['America/Noronha', 'America/Sao_Paulo', 'America/Manaus', 'America/Rio_Branco'],
  MX: [
    'America/Cancun',
    'America/Mexico_City',
    'America/Chihuahua',
    'America/Mazatlan',
    'America/Hermosillo',
    'America/Tijuana',
  ],
};

const runtimeZones = new Map<string, readonly string[]>();

/**
 * The zones of a country the tables above do not name, from the runtime's own data (CLDR): a
 * customer in Dhaka or Tehran has quiet hours of their own, not UTC's (they had before
 * 2026-12-07, as did Russia's, Indonesia's and Kazakhstan's spread over several).
 */
const zonesUntabled = (code: string): readonly string[] => {
  if (Object.hasOwn(COUNTRY_ZONES, code) || Object.hasOwn(SPREAD, code)) return [];
  let zones = runtimeZones.get(code);
  if (zones === undefined) {
    zones = zonesOf(code);
    if (runtimeZones.size > 1_000) runtimeZones.clear();
    runtimeZones.set(code, zones);
  }
  return zones;
};

/**
 * The zones a customer of a country spread over several may be in (none for the others): the
 * table's, else every zone the runtime knows for the country when it knows more than one.
 */
export const zonesOfSpreadCountry = (code: string): readonly string[] => {
  const untabled = zonesUntabled(code);
  return SPREAD[code] ?? (untabled.length > 1 ? untabled : []);
};

/**
 * The zone of a country with one (or nearly all its people in one): the table's, else the
 * runtime's when it knows one only; null for the others.
 */
export const zoneOfCountry = (code: string): string | null => {
  const untabled = zonesUntabled(code);
  return COUNTRY_ZONES[code] ?? (untabled.length === 1 ? (untabled[0] ?? null) : null);
};

/**
 * The zone of a state or province of a country spread over several zones (US, CA, AU, BR, MX),
 * read as a code (`NY`, `US-NY`, `nsw`) or a name (`New York`, `São Paulo`, `Nuevo León`, in any
 * case, with or without accents); null when the country is not one of them or the region is not
 * known.
 */
export const zoneOfRegion = (country: string, region: string | null): string | null => {
  if (region === null || !SPLIT_COUNTRIES.has(country)) return null;
  // Accents folded (`São Paulo`, `Québec`, `Nuevo León`): the tables hold the names without.
  let key = region.trim().normalize('NFD').replace(/\p{M}/gu, '').toUpperCase();
  // ISO 3166-2 writes a subdivision after its country: US-NY, CA-QC, AU-NSW.
  if (key.startsWith(`${country}-`)) key = key.slice(country.length + 1);
  switch (country) {
    case 'US':
      return US[key] ?? null;
    case 'CA':
      return CA[key] ?? null;
    case 'AU':
      return AU[key] ?? null;
    case 'BR':
      return BR_OUTSIDE[key] ?? (BR_STATES.has(key) ? 'America/Sao_Paulo' : null);
    case 'MX':
      return MX_OUTSIDE[key] ?? (MX_STATES.has(key) ? 'America/Mexico_City' : null);
    default:
      return null;
  }
};

/** Every zone these tables name (tests check that Intl reads each). */
export const zonesNamed = (): string[] => [
  ...new Set([
    ...Object.values(COUNTRY_ZONES),
    ...[US, CA, AU, BR_OUTSIDE, MX_OUTSIDE].flatMap((table) => Object.values(table)),
    ...Object.values(SPREAD).flat(),
    'America/Sao_Paulo',
    'America/Mexico_City',
  ]),
];
