import { applySavedTheme, initI18n } from '@enclave/web';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import de from './locales/de.json';
import en from './locales/en.json';
import fr from './locales/fr.json';
import './styles.css';

// Language and colour scheme before the first render, so nothing shows in the wrong one.
applySavedTheme();
initI18n({ en, de, fr });

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
