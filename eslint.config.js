// Lints the viewer (web/): ES modules for the browser, the recommended rules.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: globals.browser,
    },
  },
  {
    // the custom element is a classic script that museum pages include with <script src>
    files: ['web/vrculture-embed.js'],
    languageOptions: { sourceType: 'script' },
  },
];
