import type { RuleGroup } from './rule.js';

const UK_POSTCODE = '^[A-Z]{1,2}[0-9]{1,2} [0-9][A-Z]{2}$';

/** Address space that never appears as a visitor's public IPv4 address. */
const NOT_PUBLIC = `ARRAY['0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/3']::inet[]`;

/** `column` holds a dotted-quad public IPv4 address. */
const publicIpv4 = (column: string) =>
  `(${column} ~ '^[0-9]{1,3}(\\.[0-9]{1,3}){3}$' AND family(${column}::inet) = 4 AND NOT (${column}::inet <<= ANY (${NOT_PUBLIC})))`;

/** Business rules of the behaviour entities (see rule.ts). */
export const behaviourRules: RuleGroup[] = [
  {
    name: 'behaviour: shops',
    rules: ({ start }, locale) => [
      {
        name: 'exactly one flagship, and it is active',
        from: `(SELECT count(*) FILTER (WHERE type = 'flagship') AS flagships,
                       count(*) FILTER (WHERE type = 'flagship' AND is_active) AS active FROM shops) x`,
        holds: 'flagships = 1 AND active = 1',
      },
      {
        name: 'shops opened before the window',
        from: 'shops',
        holds: `created_at < ${start}`,
        show: 'shop_id, created_at',
      },
      {
        name: 'commission_rate within its type band; rating 1-5 with one decimal',
        from: 'shops',
        holds: `CASE type WHEN 'concession' THEN commission_rate BETWEEN 0.15 AND 0.30
                          WHEN 'online_partner' THEN commission_rate BETWEEN 0.08 AND 0.20
                          ELSE commission_rate BETWEEN 0.02 AND 0.08 END
                AND rating BETWEEN 1 AND 5 AND rating * 10 = round(rating * 10)`,
        show: 'shop_id, type, commission_rate, rating',
      },
      {
        name: "online partners trade 'Online 24/7'; other shops list weekday hours (UK: at most six Sunday hours)",
        from: 'shops',
        holds: `(type = 'online_partner') = (opening_hours = 'Online 24/7')
                AND (type = 'online_partner' OR opening_hours ~ '^Mon-(Fri|Sat|Sun) [0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2}')`,
        show: 'shop_id, type, opening_hours',
      },
      {
        name: 'shop e-mail addresses are unique',
        from: '(SELECT email, count(*) AS n FROM shops GROUP BY email) x',
        holds: 'n = 1',
      },
      locale === 'en_GB'
        ? {
            name: 'en_GB: shops have UK postcodes and UK landline numbers',
            from: 'shops',
            holds: `postcode ~ '${UK_POSTCODE}' AND phone ~ '^0[0-9 ]{10,12}$'`,
            show: 'shop_id, city, postcode, phone',
          }
        : {
            name: 'en_US: shops have 5-digit ZIP codes and (NXX) NXX-XXXX phone numbers',
            from: 'shops',
            holds: `postcode ~ '^[0-9]{5}$' AND phone ~ '^\\([2-9][0-9]{2}\\) [2-9][0-9]{2}-[0-9]{4}$'`,
            show: 'shop_id, city, postcode, phone',
          },
    ],
  },
  {
    name: 'behaviour: sessions',
    rules: ({ inWindow }, locale) => [
      {
        name: 'between 40% and 80% of sessions are logged in (about 60%)',
        from: '(SELECT avg((user_id IS NOT NULL)::int)::float8 AS share FROM sessions) x',
        holds: 'share BETWEEN 0.4 AND 0.8',
      },
      {
        name: 'a logged-in session starts after its user signed up',
        from: 'sessions s JOIN users u USING (user_id)',
        holds: 's.started_at > u.created_at',
        show: 's.session_id, u.created_at AS signed_up, s.started_at',
      },
      {
        name: 'started_at < ended_at, both inside the window; duration_seconds = ended_at - started_at',
        from: 'sessions',
        holds: `started_at < ended_at AND ${inWindow('started_at')} AND ${inWindow('ended_at')}
                AND duration_seconds = extract(epoch FROM ended_at - started_at)`,
        show: 'session_id, started_at, ended_at, duration_seconds',
      },
      {
        name: 'every order has exactly one checkout session',
        from: `(SELECT o.order_id, count(s.session_id) AS sessions FROM orders o LEFT JOIN sessions s USING (order_id)
                GROUP BY o.order_id) x`,
        holds: 'sessions = 1',
      },
      {
        name: "a checkout session is the order's customer's and contains the order's created_at",
        from: 'sessions s JOIN orders o USING (order_id)',
        holds: 's.user_id = o.user_id AND o.created_at BETWEEN s.started_at AND s.ended_at',
        show: 's.session_id, s.user_id, o.user_id AS order_user, s.started_at, o.created_at, s.ended_at',
      },
      {
        name: 'converted iff the session placed an order; browsing sessions exist and most do not convert',
        from: `(SELECT bool_and(converted = (order_id IS NOT NULL)) AS consistent,
                       avg(converted::int)::float8 AS conversion FROM sessions) x`,
        holds: 'consistent AND conversion > 0.05 AND conversion < 0.5',
      },
      {
        name: 'page_views = PAGE_VIEW + PRODUCT_VIEW events, event_count = events, landing_page = the first page',
        from: `sessions s JOIN (SELECT session_id, count(*) AS events,
                       count(*) FILTER (WHERE event_type IN ('PAGE_VIEW', 'PRODUCT_VIEW')) AS pages,
                       min(page_url) FILTER (WHERE sequence_number = 1) AS first_page
                FROM clickstream GROUP BY session_id) c USING (session_id)`,
        holds: 's.page_views = c.pages AND s.event_count = c.events AND s.landing_page = c.first_page',
        show: 's.session_id, s.page_views, c.pages, s.event_count, c.events, s.landing_page, c.first_page',
      },
      {
        name: 'every session has events',
        from: 'sessions s LEFT JOIN (SELECT DISTINCT session_id FROM clickstream) c USING (session_id)',
        holds: 'c.session_id IS NOT NULL',
        show: 's.session_id',
      },
      {
        name: 'user_agent matches os, browser and device_type',
        from: 'sessions',
        holds: `CASE os WHEN 'Windows' THEN user_agent LIKE '%(Windows NT %'
                        WHEN 'macOS' THEN user_agent LIKE '%(Macintosh; Intel Mac OS X %'
                        WHEN 'Linux' THEN user_agent ~ '\\(X11; (Ubuntu; )?Linux x86_64'
                        WHEN 'ChromeOS' THEN user_agent LIKE '%(X11; CrOS %'
                        WHEN 'iOS' THEN user_agent LIKE '%(iPhone; CPU iPhone OS %'
                        WHEN 'iPadOS' THEN user_agent LIKE '%(iPad; CPU OS %'
                        WHEN 'Android' THEN user_agent LIKE '%Android %' END
                AND CASE browser WHEN 'Edge' THEN user_agent LIKE '% Edg/%'
                        WHEN 'Opera' THEN user_agent LIKE '% OPR/%'
                        WHEN 'Samsung Internet' THEN user_agent LIKE '% SamsungBrowser/%'
                        WHEN 'Firefox' THEN user_agent LIKE '% Firefox/%'
                        WHEN 'Chrome' THEN (user_agent LIKE '% Chrome/%' OR user_agent LIKE '% CriOS/%')
                                           AND user_agent !~ ' (Edg|OPR|SamsungBrowser)/'
                        WHEN 'Safari' THEN user_agent LIKE '% Version/% Safari/%' AND user_agent !~ ' (Chrome|CriOS)/' END
                AND CASE device_type WHEN 'mobile' THEN user_agent LIKE '%Mobile%' AND os IN ('iOS', 'Android')
                        WHEN 'desktop' THEN user_agent NOT LIKE '%Mobile%' AND os IN ('Windows', 'macOS', 'Linux', 'ChromeOS')
                        ELSE os IN ('iPadOS', 'Android') END`,
        show: 'session_id, device_type, os, browser, user_agent',
      },
      {
        name: 'ip_address is a public IPv4 address',
        from: 'sessions',
        holds: publicIpv4('ip_address'),
        show: 'session_id, ip_address',
      },
      {
        name: 'campaign fields come together: utm_medium iff utm_source; paid and social visits have a referrer',
        from: 'sessions',
        holds: `(utm_source IS NULL) = (utm_medium IS NULL)
                AND (coalesce(utm_medium, '') NOT IN ('cpc', 'social', 'affiliate') OR referrer IS NOT NULL)
                AND (utm_medium IS DISTINCT FROM 'email' OR referrer IS NULL)`,
        show: 'session_id, referrer, utm_source, utm_medium, utm_campaign',
      },
      {
        name: `geo: sessions are in ${locale === 'en_GB' ? 'GB' : 'the US'}`,
        from: 'sessions',
        holds: `country = '${locale === 'en_GB' ? 'GB' : 'US'}'`,
        show: 'session_id, country, city',
      },
    ],
  },
  {
    name: 'behaviour: clickstream',
    rules: ({ inWindow }) => [
      {
        name: 'events lie inside their session (and the window), user_id is the session user',
        from: 'clickstream c JOIN sessions s USING (session_id)',
        holds: `c.occurred_at BETWEEN s.started_at AND s.ended_at AND ${inWindow('c.occurred_at')}
                AND c.user_id IS NOT DISTINCT FROM s.user_id`,
        show: 'c.event_id, c.occurred_at, s.started_at, s.ended_at, c.user_id, s.user_id AS session_user',
      },
      {
        name: 'sequence numbers are 1..n per session and time never goes backwards along them',
        from: `(SELECT event_id, sequence_number,
                       row_number() OVER (PARTITION BY session_id ORDER BY sequence_number) AS position,
                       occurred_at, lag(occurred_at) OVER (PARTITION BY session_id ORDER BY sequence_number) AS previous
                FROM clickstream) x`,
        holds: 'sequence_number = position AND (previous IS NULL OR occurred_at >= previous)',
        show: 'event_id, sequence_number, position, previous, occurred_at',
      },
      {
        name: 'product_id only (and always) on PRODUCT_VIEW, CART_ADD, CART_REMOVE; search_query only on SEARCH; order_id only on PURCHASE',
        from: 'clickstream',
        holds: `(product_id IS NOT NULL) = (event_type IN ('PRODUCT_VIEW', 'CART_ADD', 'CART_REMOVE'))
                AND (search_query IS NOT NULL) = (event_type = 'SEARCH')
                AND (order_id IS NOT NULL) = (event_type = 'PURCHASE')`,
        show: 'event_id, event_type, product_id, search_query, order_id',
      },
      {
        name: "PURCHASE only in a checkout session, for that session's order, at the order's created_at",
        from: 'clickstream c JOIN sessions s USING (session_id) LEFT JOIN orders o ON o.order_id = c.order_id',
        where: "c.event_type = 'PURCHASE'",
        holds: 's.order_id IS NOT NULL AND c.order_id = s.order_id AND c.occurred_at = o.created_at',
        show: 'c.event_id, s.session_id, s.order_id AS session_order, c.order_id, c.occurred_at, o.created_at',
      },
      {
        name: 'a checkout session has exactly one PURCHASE, as its last event, after a CHECKOUT; browsing sessions none',
        from: `(SELECT s.session_id, s.order_id, count(c.*) FILTER (WHERE c.event_type = 'PURCHASE') AS purchases,
                       max(c.sequence_number) AS last, max(c.sequence_number) FILTER (WHERE c.event_type = 'PURCHASE') AS purchase_at,
                       min(c.sequence_number) FILTER (WHERE c.event_type = 'CHECKOUT') AS checkout_at
                FROM sessions s JOIN clickstream c USING (session_id) GROUP BY s.session_id, s.order_id) x`,
        holds: `CASE WHEN order_id IS NULL THEN purchases = 0
                     ELSE purchases = 1 AND purchase_at = last AND checkout_at < purchase_at END`,
        show: 'session_id, order_id, purchases, last, purchase_at, checkout_at',
      },
      {
        name: "every product of an order is added to the cart in the order's checkout session",
        from: 'order_items i JOIN sessions s USING (order_id)',
        holds: `EXISTS (SELECT 1 FROM clickstream c WHERE c.session_id = s.session_id
                        AND c.event_type = 'CART_ADD' AND c.product_id = i.product_id)`,
        show: 'i.order_item_id, i.order_id, i.product_id, s.session_id',
      },
      {
        name: 'a product removed from the cart was added earlier in the session and is not in the order',
        from: 'clickstream r JOIN sessions s USING (session_id)',
        where: "r.event_type = 'CART_REMOVE'",
        holds: `EXISTS (SELECT 1 FROM clickstream a WHERE a.session_id = r.session_id AND a.event_type = 'CART_ADD'
                        AND a.product_id = r.product_id AND a.sequence_number < r.sequence_number)
                AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = s.order_id AND i.product_id = r.product_id)`,
        show: 'r.event_id, r.session_id, r.product_id, r.sequence_number',
      },
      {
        name: 'a CART_ADD follows a view of the product; a CHECKOUT follows a CART_ADD',
        from: 'clickstream e',
        where: "e.event_type IN ('CART_ADD', 'CHECKOUT')",
        holds: `EXISTS (SELECT 1 FROM clickstream p WHERE p.session_id = e.session_id AND p.sequence_number < e.sequence_number
                        AND CASE e.event_type WHEN 'CART_ADD' THEN p.event_type = 'PRODUCT_VIEW' AND p.product_id = e.product_id
                                              ELSE p.event_type = 'CART_ADD' END)`,
        show: 'e.event_id, e.session_id, e.event_type, e.sequence_number',
      },
      {
        name: 'in a checkout session the products added and not removed are exactly the order lines',
        from: `(SELECT s.session_id, s.order_id,
                       (SELECT array_agg(DISTINCT a.product_id ORDER BY a.product_id) FROM clickstream a
                        WHERE a.session_id = s.session_id AND a.event_type = 'CART_ADD'
                          AND NOT EXISTS (SELECT 1 FROM clickstream r WHERE r.session_id = a.session_id
                                          AND r.event_type = 'CART_REMOVE' AND r.product_id = a.product_id)) AS kept,
                       (SELECT array_agg(i.product_id ORDER BY i.product_id) FROM order_items i WHERE i.order_id = s.order_id) AS bought
                FROM sessions s WHERE s.order_id IS NOT NULL) x`,
        holds: 'kept = bought',
        show: 'session_id, order_id, kept, bought',
      },
      {
        name: 'there are abandoned carts and searches: browsing sessions add to the cart, and SEARCH events carry a query',
        from: `(SELECT count(*) FILTER (WHERE c.event_type = 'CART_ADD' AND s.order_id IS NULL) AS browsing_adds,
                       count(*) FILTER (WHERE c.event_type = 'CART_REMOVE') AS removes,
                       count(*) FILTER (WHERE c.event_type = 'SEARCH' AND c.page_url LIKE '/search?q=%') AS searches
                FROM clickstream c JOIN sessions s USING (session_id)) x`,
        holds: 'browsing_adds > 0 AND removes > 0 AND searches > 0',
      },
    ],
  },
  {
    name: 'behaviour: transactions',
    rules: ({ inWindow, end }, locale) => [
      {
        name: "subtotal = quantity x unit_price, total = subtotal + tax, unit_price = the product's price at the timestamp",
        from: 'transactions t JOIN products p USING (product_id)',
        holds: `t.subtotal = t.quantity * t.unit_price AND t.total = t.subtotal + t.tax AND t.unit_price = coalesce(
              (SELECT c.new_price FROM price_changes c WHERE c.product_id = t.product_id AND c.changed_at <= t.timestamp ORDER BY c.changed_at DESC LIMIT 1),
              (SELECT c.previous_price FROM price_changes c WHERE c.product_id = t.product_id ORDER BY c.changed_at LIMIT 1),
              p.price)`,
        show: 't.transaction_id, t.quantity, t.unit_price, p.price, t.subtotal, t.tax, t.total',
      },
      {
        name: 'tax: 20% VAT on GBP transactions (to the penny), at most 10.35% US sales tax on USD ones',
        from: 'transactions',
        holds: `CASE currency WHEN 'GBP' THEN tax = round(subtotal * 0.20, 2)
                              WHEN 'USD' THEN tax >= 0 AND tax <= round(subtotal * 0.1035, 2) + 0.01 END`,
        show: 'transaction_id, currency, subtotal, tax',
      },
      ...(locale === 'en_GB'
        ? [{ name: 'en_GB: transactions are in GBP', from: 'transactions', holds: "currency = 'GBP'", show: 'transaction_id, currency' }]
        : []),
      {
        name: "the transaction's session is the customer's; user_agent and ip_address are the session's; the timestamp lies inside it",
        from: 'transactions t JOIN sessions s USING (session_id)',
        holds: `s.user_id = t.customer_id AND t.user_agent = s.user_agent AND t.ip_address = s.ip_address
                AND t.timestamp BETWEEN s.started_at AND s.ended_at`,
        show: 't.transaction_id, t.customer_id, s.user_id, t.timestamp, s.started_at, s.ended_at, t.ip_address, s.ip_address',
      },
      {
        name: 'transactions are sold by active shops, by customers who had signed up, inside the window',
        from: 'transactions t JOIN shops h USING (shop_id) JOIN users u ON u.user_id = t.customer_id',
        holds: `h.is_active AND u.created_at < t.timestamp AND ${inWindow('t.timestamp')}`,
        show: 't.transaction_id, h.is_active, u.created_at, t.timestamp',
      },
      {
        name: 'only the last 24 hours of the window have pending transactions',
        from: 'transactions',
        where: "status = 'pending'",
        holds: `timestamp >= ${end} - interval '1 day'`,
        mayBeEmpty: true,
        show: 'transaction_id, status, timestamp',
      },
      {
        name: 'transaction ip_address is a public IPv4 address',
        from: 'transactions',
        holds: publicIpv4('ip_address'),
        show: 'transaction_id, ip_address',
      },
    ],
  },
];
