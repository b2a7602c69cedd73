-- Browsers are spelled like platforms (`chrome`, not the API's `BROWSER_CHROME`); '' is none.
UPDATE devices SET browser = lower(substr(browser, 9)) WHERE browser LIKE 'BROWSER\_%' ESCAPE '\';
